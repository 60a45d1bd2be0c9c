import type { Command } from 'commander';
import { registerDiff } from './diff.js';
import { registerFetch } from './fetch.js';
import { registerGc } from './gc.js';
import { registerHalt } from './halt.js';
import { registerHistory } from './history.js';
import { registerHooks } from './hooks.js';
import { registerInit } from './init.js';
import { registerKeys } from './keys.js';
import { registerPack } from './pack.js';
import { registerPromote } from './promote.js';
import { registerPublish } from './publish.js';
import { registerResolve } from './resolve.js';
import { registerResume } from './resume.js';
import { registerRollback } from './rollback.js';
import { registerRollout } from './rollout.js';
import { registerStatus } from './status.js';
import { registerVerify } from './verify.js';
import { registerWhitelist } from './whitelist.js';

export function registerCommands(program: Command): void {
  for (const register of [
    registerInit,
    registerPack,
    registerDiff,
    registerPublish,
    registerStatus,
    registerResolve,
    registerGc,
    registerRollout,
    registerHalt,
    registerResume,
    registerRollback,
    registerPromote,
    registerHistory,
    registerHooks,
    registerWhitelist,
    registerFetch,
    registerVerify,
    registerKeys,
  ]) {
    register(program);
  }
}
