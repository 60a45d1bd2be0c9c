import type { Command } from 'commander';
import { registerDiff } from './diff.js';
import { registerGc } from './gc.js';
import { registerInit } from './init.js';
import { registerPack } from './pack.js';
import { registerPublish } from './publish.js';
import { registerResolve } from './resolve.js';
import { registerStatus } from './status.js';

export function registerCommands(program: Command): void {
  for (const register of [registerInit, registerPack, registerDiff, registerPublish, registerStatus, registerResolve, registerGc]) {
    register(program);
  }
}
