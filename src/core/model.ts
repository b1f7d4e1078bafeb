// The playbook after loading and validation: what the engine executes. Every node keeps its position
// so runtime errors (undefined variable, failed include) still point at file:line:col.
import type { SourcePos } from './problems.js';

export type Vars = Record<string, unknown>;

/** Keywords shared by tasks, blocks and includes. Expressions are kept as raw strings (templated at run time). */
export interface NodeCommon {
  name?: string;
  pos: SourcePos;
  /** `when:` conditions, all must hold (a string in YAML is a one-element list). */
  when: string[];
  tags: string[];
  vars: Vars;
  become?: boolean;
  becomeUser?: string;
  /** Task-level override of check mode: true forces check, false forces a real run (read-only probes). */
  checkMode?: boolean;
  ignoreErrors?: boolean;
  noLog?: boolean;
  /** Seconds. */
  timeout?: number;
  /** `environment:` of the task's commands (values templated at run time). */
  environment?: Vars;
  /** `diff:` shows (true) or hides (false) this task's diff whatever --diff says. */
  diff?: boolean;
  /** At most this many hosts at once. */
  throttle?: number;
  /** A host failing here stops the play for all hosts. */
  anyErrorsFatal?: boolean;
  /** Entering this node enters a role: a role's block (roles:, import_role, a dependency), or a role's handler. */
  role?: RoleInfo;
}

/** A role as the engine needs it: its variables and where its files are. */
export interface RoleInfo {
  name: string;
  /** The role's directory (Ansible's role_path): copy and template look in its files/ and templates/ first. */
  path: string;
  /** defaults/main.yml (its dependencies' first): the lowest of all variables. */
  defaults: Vars;
  /** vars/main.yml (its dependencies' first): above the play's vars and vars_files. */
  vars: Vars;
  /** The role's parameters: `vars:` and any other key of its roles: or dependencies entry. */
  params: Vars;
  /** The roles that pulled this one in as a dependency, closest first. */
  parents: { name: string; path: string }[];
}

export interface TaskNode extends NodeCommon {
  kind: 'task';
  /** Canonical module name (aliases like ansible.builtin.copy already resolved). */
  module: string;
  /** Module args as written (free-form strings of command/shell normalized to { cmd }). Templated at run time. */
  args: Vars;
  /** Position of the module key, for argument errors. */
  argsPos: SourcePos;
  loop?: unknown;
  /** with_items: lists inside the rendered loop list are flattened one level. */
  loopFlatten?: boolean;
  loopVar: string;
  loopLabel?: string;
  /** loop_control's index_var, extended (ansible_loop) and pause. */
  loopControl?: LoopControl;
  register?: string;
  /** Put there by ewsplay, not written (the handler flushes after pre_tasks and tasks): not listed. */
  implicit?: boolean;
  /** delegate_to (templated): the task runs through this host's connection, with this host's variables. */
  delegateTo?: string;
  /** delegate_facts: facts the task sets go to the delegated host. */
  delegateFacts?: boolean;
  /** run_once: the first host of the batch runs it; the others get its registered result and facts. */
  runOnce?: boolean;
  until?: string;
  retries: number;
  /** Seconds. */
  delay: number;
  changedWhen?: string[];
  failedWhen?: string[];
  notify: string[];
  /** Handlers only: topics this handler answers to besides its name (Ansible's `listen`). */
  listen?: string[];
}

export interface BlockNode extends NodeCommon {
  kind: 'block';
  block: Node[];
  rescue: Node[];
  always: Node[];
}

/** include_tasks: resolved at run time (the file name may be templated); import_tasks is inlined at load as a block. */
export interface IncludeNode extends NodeCommon {
  kind: 'include';
  /** File name as written (may contain templates); for include_role, the role's name. */
  file: string;
  /** include_role: the role to run (its name may be templated); `tasks` then holds the role's block. */
  includeRole?: RoleFiles & { name: string };
  /** When the name has no template, the loader already loaded and validated the file. */
  tasks?: Node[];
  loop?: unknown;
  /** with_items: lists inside the rendered loop list are flattened one level. */
  loopFlatten?: boolean;
  loopVar: string;
  loopControl?: LoopControl;
}

/** include_role / import_role's tasks_from, vars_from, defaults_from and handlers_from. */
export interface RoleFiles {
  tasksFrom?: string;
  varsFrom?: string;
  defaultsFrom?: string;
  handlersFrom?: string;
}

export interface LoopControl {
  indexVar?: string;
  extended?: boolean;
  /** extended_allitems: false leaves allitems out. */
  allItems?: boolean;
  /** Seconds between items. */
  pause?: number;
}

export type Node = TaskNode | BlockNode | IncludeNode;

export interface Play {
  name: string;
  pos: SourcePos;
  hosts: string;
  /** Position of the `hosts:` value, for "matches no host" problems. */
  hostsPos?: SourcePos;
  vars: Vars;
  varsFiles: string[];
  /** vars_prompt: asked before the run; the answers join `vars`. */
  varsPrompt?: VarsPrompt[];
  /** gather_facts as written: true, false, or undefined (gather when the play uses a fact; see engine/facts.ts). */
  gatherFacts?: boolean;
  become?: boolean;
  becomeUser?: string;
  /** `environment:` of every task of the play (a block's or task's own wins, name by name). */
  environment?: Vars;
  /** Number of hosts per batch, or percentage string like '30%'. */
  serial?: number | string | (number | string)[];
  anyErrorsFatal: boolean;
  maxFailPercentage?: number;
  checkMode?: boolean;
  /** connection, remote_user, port: used where the inventory sets no ansible_connection, _user, _port. */
  connection?: string;
  remoteUser?: string;
  port?: number;
  /** The order hosts are taken in (Ansible's `order:`). */
  order?: 'inventory' | 'reverse_inventory' | 'sorted' | 'reverse_sorted' | 'shuffle';
  diff?: boolean;
  throttle?: number;
  tags: string[];
  tasks: Node[];
  handlers: TaskNode[];
  /** Defaults and vars of the roles of roles: and import_role (Ansible exposes them to the whole play). */
  roleDefaults?: Vars;
  roleVars?: Vars;
}

export interface VarsPrompt {
  name: string;
  prompt?: string;
  private?: boolean;
  default?: string | number | boolean;
  confirm?: boolean;
  unsafe?: boolean;
}

export interface Playbook {
  file: string;
  plays: Play[];
}
