// A task's effective settings, resolved once and in one place, with Ansible's precedence: the task's own
// keyword, then the enclosing blocks' (innermost first, carried by the scope), then the play's, then the
// inventory's variables (become), then the command line.
import type { Play, TaskNode, Vars } from '../core/model.js';
import type { RunOptions } from './context.js';
import type { Scope } from './scope.js';

export interface TaskSettings {
  /** Check mode for this task: the engine never lets a module act when true. */
  check: boolean;
  diff: boolean;
  noLog: boolean;
  ignoreErrors: boolean;
  timeoutSec: number;
  become: boolean;
  becomeUser?: string;
  becomePassword?: string;
  /** Environment of every command of the task, not rendered yet (task over blocks over play). */
  environment: Vars;
}

/** Settings that need no variables: what the engine decides before rendering anything. */
export function staticSettings(
  options: Pick<RunOptions, 'check' | 'diff' | 'taskTimeoutSec'>,
  play: Pick<Play, 'checkMode'>,
  task: TaskNode,
  scope: Scope,
): Pick<TaskSettings, 'check' | 'diff' | 'noLog' | 'ignoreErrors' | 'timeoutSec' | 'environment'> {
  return {
    check: task.checkMode ?? scope.checkMode ?? play.checkMode ?? options.check,
    diff: task.diff ?? scope.diff ?? options.diff,
    noLog: task.noLog ?? scope.noLog ?? false,
    ignoreErrors: task.ignoreErrors ?? scope.ignoreErrors ?? false,
    timeoutSec: task.timeout ?? scope.timeout ?? options.taskTimeoutSec,
    environment: { ...scope.environment, ...task.environment },
  };
}

/** Everything, become included (the inventory's ansible_become* variables sit between play and CLI). */
export function taskSettings(
  options: Pick<RunOptions, 'check' | 'diff' | 'taskTimeoutSec' | 'become'>,
  play: Pick<Play, 'checkMode'>,
  task: TaskNode,
  scope: Scope,
  vars: Vars,
): TaskSettings {
  const cli = options.become;
  const become =
    task.become ?? scope.become ?? (vars.ansible_become as boolean | undefined) ?? cli?.enabled ?? false;
  const settings: TaskSettings = { ...staticSettings(options, play, task, scope), become };
  if (!become) return settings;
  const user =
    task.becomeUser ?? scope.becomeUser ?? (vars.ansible_become_user as string | undefined) ?? cli?.user;
  const password = vars.ansible_become_password ?? vars.ansible_become_pass ?? cli?.password;
  if (user !== undefined) settings.becomeUser = user;
  if (password !== undefined && password !== null) settings.becomePassword = String(password);
  return settings;
}
