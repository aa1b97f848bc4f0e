/**
 * The semantic cache's Lua scripts, for tools that inspect or pre-load them (`SCRIPT LOAD`).
 * Not part of the public API: it may change in any release.
 */
export { setEntryScript } from './scripts.js';
export { extendEntryScript, registerTagScript, beginInvalidationScript, endInvalidationScript, invalidateScopeScript } from './policy-scripts.js';
