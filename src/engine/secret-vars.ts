// Secret-named variables (ansible_password, *_password, *_token, *_secret, *_passphrase) are registered as
// secrets by the value a task sees, so one set from an env lookup or from another variable is masked too.

import type { Vars } from '../core/model.js';
import type { Secrets } from '../core/secrets.js';
import { isSecretVarName } from '../inventory/connection-spec.js';

export function registerSecretVars(vars: Vars, secrets: Secrets): void {
  for (const name of Object.keys(vars)) {
    if (!isSecretVarName(name)) continue;
    try {
      addLeaves(vars[name], secrets, 0);
    } catch {
      // A variable that cannot be resolved fails the task that uses it, with its own message.
    }
  }
}

function addLeaves(value: unknown, secrets: Secrets, depth: number): void {
  if (depth > 10) return;
  if (Array.isArray(value)) for (const v of value) addLeaves(v, secrets, depth + 1);
  else if (value && typeof value === 'object')
    for (const v of Object.values(value)) addLeaves(v, secrets, depth + 1);
  else secrets.add(value);
}
