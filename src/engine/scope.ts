// Keywords a block or include passes down to the tasks inside it (Ansible's inheritance).
import type { NodeCommon, Vars } from '../load/model.js';

export interface Scope {
  when: string[];
  tags: string[];
  vars: Vars;
  become?: boolean;
  becomeUser?: string;
  checkMode?: boolean;
  ignoreErrors?: boolean;
  noLog?: boolean;
  timeout?: number;
  environment?: Vars;
  diff?: boolean;
  throttle?: number;
  anyErrorsFatal?: boolean;
  /** Handlers and nested verify tasks do not emit progress of their own. */
  silent: boolean;
}

export function childScope(parent: Scope, node: NodeCommon, extraVars?: Vars): Scope {
  const s: Scope = {
    when: [...parent.when, ...node.when],
    tags: [...parent.tags, ...node.tags],
    vars: { ...parent.vars, ...node.vars, ...extraVars },
    silent: parent.silent,
  };
  const become = node.become ?? parent.become;
  if (become !== undefined) s.become = become;
  const becomeUser = node.becomeUser ?? parent.becomeUser;
  if (becomeUser !== undefined) s.becomeUser = becomeUser;
  const checkMode = node.checkMode ?? parent.checkMode;
  if (checkMode !== undefined) s.checkMode = checkMode;
  const ignoreErrors = node.ignoreErrors ?? parent.ignoreErrors;
  if (ignoreErrors !== undefined) s.ignoreErrors = ignoreErrors;
  const noLog = node.noLog ?? parent.noLog;
  if (noLog !== undefined) s.noLog = noLog;
  const timeout = node.timeout ?? parent.timeout;
  if (timeout !== undefined) s.timeout = timeout;
  const diff = node.diff ?? parent.diff;
  if (diff !== undefined) s.diff = diff;
  const throttle = node.throttle ?? parent.throttle;
  if (throttle !== undefined) s.throttle = throttle;
  const anyErrorsFatal = node.anyErrorsFatal ?? parent.anyErrorsFatal;
  if (anyErrorsFatal !== undefined) s.anyErrorsFatal = anyErrorsFatal;
  if (node.environment || parent.environment) s.environment = { ...parent.environment, ...node.environment };
  return s;
}
