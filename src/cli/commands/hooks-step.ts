import type { ReleaseEvent } from '../../hooks/event.js';
import type { CommandContext } from '../context.js';

// Placeholder until the hooks stage lands (issue 5).
export async function runReleaseHooks(_context: CommandContext, _events: ReleaseEvent[]): Promise<unknown[]> {
  return [];
}
