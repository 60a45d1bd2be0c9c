import { z } from 'zod';

// Placeholder: the hooks stage owns this schema (see issue 5).
export const hooksConfigSchema = z.array(z.object({ type: z.string() }).passthrough()).default([]);
export type HookConfig = z.infer<typeof hooksConfigSchema>[number];
