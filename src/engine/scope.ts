// Keywords a block or include passes down to the tasks inside it (Ansible's inheritance).
import type { NodeCommon, RoleInfo, Vars } from '../core/model.js';

/** The keywords a block or include hands down, typed as on the node that wrote them. */
type InheritedKeywords = Pick<
  NodeCommon,
  | 'become'
  | 'becomeUser'
  | 'checkMode'
  | 'ignoreErrors'
  | 'noLog'
  | 'timeout'
  | 'environment'
  | 'diff'
  | 'throttle'
  | 'anyErrorsFatal'
>;

export interface Scope extends InheritedKeywords {
  when: string[];
  tags: string[];
  vars: Vars;
  /** Values set by the engine, never rendered (an include_tasks loop's item): they sit above `vars`. */
  data?: Vars;
  /** Inside a block's rescue: the host's failed task and result are ansible_failed_task/_result. */
  rescue?: boolean;
  /** Inside a role: its defaults (below the inventory) and its vars (above the play's vars_files). */
  roleDefaults?: Vars;
  roleVars?: Vars;
  /** Handlers and nested verify tasks do not emit progress of their own. */
  silent: boolean;
}

export function childScope(parent: Scope, node: NodeCommon, extraVars?: Vars): Scope {
  const s: Scope = {
    when: [...parent.when, ...node.when],
    tags: [...parent.tags, ...node.tags],
    vars: { ...parent.vars, ...(node.role ? roleScopeVars(node.role) : {}), ...node.vars, ...extraVars },
    silent: parent.silent,
  };
  if (parent.data) s.data = parent.data;
  if (parent.rescue) s.rescue = true;
  const roleDefaults = node.role ? { ...parent.roleDefaults, ...node.role.defaults } : parent.roleDefaults;
  if (roleDefaults) s.roleDefaults = roleDefaults;
  const roleVars = node.role ? { ...parent.roleVars, ...node.role.vars } : parent.roleVars;
  if (roleVars) s.roleVars = roleVars;
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

/** A scope entered for a role's handler: the role's variables and parameters, nothing else of the handler. */
export function roleScope(parent: Scope, role: RoleInfo | undefined): Scope {
  return role
    ? childScope(parent, { pos: { file: '', line: 0, col: 0 }, when: [], tags: [], vars: {}, role })
    : parent;
}

/**
 * A role's parameters and Ansible's magic variables of roles (role_name, role_path: where copy and template
 * look first, ansible_parent_role_names / _paths). Parameters sit with block vars here (Ansible puts them
 * above registered results and set_fact).
 */
function roleScopeVars(role: RoleInfo): Vars {
  return {
    ...role.params,
    role_name: role.name,
    ansible_role_name: role.name,
    role_path: role.path,
    ansible_parent_role_names: role.parents.map((p) => p.name),
    ansible_parent_role_paths: role.parents.map((p) => p.path),
  };
}
