// The keywords of plays, tasks, blocks, includes and handlers: one table feeds both the generated JSON Schemas
// and the loader's per-keyword checks, so the editor and `ewsplay validate` agree.

export type JsonSchema = Record<string, unknown>;

export interface Keyword {
  schema: JsonSchema;
  /** Completes "'<keyword>' must be ..." when a value has the wrong shape. */
  expects: string;
}

const IDENTIFIER = '^[A-Za-z_][A-Za-z0-9_]*$';
const string: JsonSchema = { type: 'string' };
const boolean: JsonSchema = { type: 'boolean' };
const stringOrList: JsonSchema = { anyOf: [string, { type: 'array', items: string }] };
const conditions: JsonSchema = {
  anyOf: [string, boolean, { type: 'array', items: { anyOf: [string, boolean] } }],
};

const kw = (schema: JsonSchema, expects: string, description: string): Keyword => ({
  schema: { ...schema, description },
  expects,
});

/** Keywords every task, block and include accepts. */
export const COMMON_KEYWORDS: Record<string, Keyword> = {
  name: kw(string, 'a string', 'Shown in progress output and reports'),
  when: kw(
    conditions,
    'a condition (a string) or a list of conditions',
    'Run only when every condition holds',
  ),
  tags: kw(
    {
      anyOf: [string, { type: 'number' }, { type: 'array', items: { anyOf: [string, { type: 'number' }] } }],
    },
    'a tag or a list of tags',
    'Tags for --tags / --skip-tags (a comma-separated string is split)',
  ),
  vars: kw({ type: 'object' }, 'a mapping of variables', 'Variables for this task or block'),
  become: kw(boolean, 'true or false', 'Run with privilege escalation (sudo)'),
  become_user: kw(string, 'a user name', 'User to become (default root)'),
  become_method: kw(
    { type: 'string', enum: ['sudo'] },
    "'sudo' (the one become method ewsplay has)",
    'How to become another user: sudo',
  ),
  check_mode: kw(boolean, 'true or false', 'true: always check mode; false: run for real even under --check'),
  diff: kw(boolean, 'true or false', 'true: show the diff of this task even without --diff; false: never'),
  throttle: kw(
    { type: 'integer', minimum: 1 },
    'a whole number (at least 1)',
    'At most this many hosts run the task at once (below --forks)',
  ),
  any_errors_fatal: kw(boolean, 'true or false', 'A host failing this task stops the play for all hosts'),
  ignore_errors: kw(boolean, 'true or false', 'A failure is reported but the host goes on'),
  no_log: kw(boolean, 'true or false', 'Hide the arguments and results of this task in all output'),
  timeout: kw(
    { type: 'integer', minimum: 1 },
    'a whole number of seconds (at least 1)',
    'Seconds before each command of the task is aborted',
  ),
  environment: kw(
    {
      type: 'object',
      propertyNames: { pattern: IDENTIFIER },
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
    'a mapping of environment variable names to values',
    'Environment of every command the task runs on the host, whatever its module (not on Windows hosts): how a secret reaches a program, never in its arguments',
  ),
};

const LOOP: Record<string, Keyword> = {
  loop: kw(
    { anyOf: [{ type: 'array' }, string] },
    "a list, or a template like '{{ items }}' that gives one",
    'Run once per item; the item is {{ item }} (or loop_control.loop_var)',
  ),
  with_items: kw(
    { anyOf: [{ type: 'array' }, string] },
    "a list, or a template like '{{ items }}' that gives one",
    "Ansible's older loop: as loop, with lists inside the list flattened one level",
  ),
  with_list: kw(
    { anyOf: [{ type: 'array' }, string] },
    "a list, or a template like '{{ items }}' that gives one",
    "Ansible's older loop: the same as loop",
  ),
  loop_control: kw(
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        label: { type: 'string', description: 'What progress output shows for each item' },
        loop_var: {
          type: 'string',
          pattern: IDENTIFIER,
          description: "Name of the loop variable (default 'item')",
        },
        index_var: {
          type: 'string',
          pattern: IDENTIFIER,
          description: 'Name of a variable holding the item index (0, 1, ...)',
        },
        extended: {
          type: 'boolean',
          description:
            'Set ansible_loop (index, index0, first, last, length, previtem, nextitem, allitems ...)',
        },
        extended_allitems: {
          type: 'boolean',
          description: 'With extended: false leaves allitems out of ansible_loop',
        },
        pause: { type: 'number', minimum: 0, description: 'Seconds to wait between items' },
      },
    },
    'a mapping of label, loop_var, index_var, extended, extended_allitems and pause',
    'How the loop shows and names its item: label, loop_var, index_var, extended, extended_allitems, pause',
  ),
};

/** Keywords only a module task accepts. */
export const TASK_KEYWORDS: Record<string, Keyword> = {
  ...COMMON_KEYWORDS,
  ...LOOP,
  register: kw(
    { type: 'string', pattern: IDENTIFIER },
    'a variable name (letters, digits, _)',
    'Save the result in this variable',
  ),
  delegate_to: kw(
    string,
    'a host name (of the inventory, or localhost)',
    "Run the task through that host's connection; its variables stay this host's (inventory_hostname too)",
  ),
  delegate_facts: kw(
    boolean,
    'true or false',
    'With delegate_to: the facts the task sets go to the delegated host instead',
  ),
  async: kw(
    { type: 'integer', minimum: 1 },
    'a whole number of seconds',
    'The task may run this long (with poll > 0, the same as timeout:); fire-and-forget (poll: 0) is not supported',
  ),
  poll: kw(
    { type: 'integer', minimum: 0 },
    'a whole number of seconds',
    'Accepted with async (ewsplay follows the task itself, so the interval is not used); 0 is refused',
  ),
  run_once: kw(
    boolean,
    'true or false',
    'Run on the first host of the batch only; its registered result and facts go to every host of the batch',
  ),
  until: kw(
    { anyOf: [string, boolean] },
    'a condition (a string)',
    'Retry the task until this condition holds',
  ),
  retries: kw(
    { type: 'integer', minimum: 0 },
    'a whole number (0 or more)',
    'How many times until: retries (default 3)',
  ),
  delay: kw(
    { type: 'number', minimum: 0 },
    'a number of seconds (0 or more)',
    'Seconds between retries (default 5)',
  ),
  changed_when: kw(
    conditions,
    'a condition or a list of conditions',
    'Decides whether the task reports changed',
  ),
  failed_when: kw(conditions, 'a condition or a list of conditions', 'Decides whether the task failed'),
  notify: kw(
    stringOrList,
    'a handler name or a list of handler names',
    'Handlers to run at the end of the play if changed',
  ),
  args: kw(
    { type: 'object' },
    'a mapping of module arguments',
    'Module arguments (merged with the module key)',
  ),
};

/** Handlers are tasks that may also answer to `listen` topics. */
export const HANDLER_KEYWORDS: Record<string, Keyword> = {
  ...TASK_KEYWORDS,
  listen: kw(stringOrList, 'a topic or a list of topics', 'Topics this handler answers to, besides its name'),
};

export const BLOCK_KEYWORDS: Record<string, Keyword> = { ...COMMON_KEYWORDS };
export const BLOCK_SECTIONS = ['block', 'rescue', 'always'] as const;

export const INCLUDE_KEYWORDS: Record<string, Keyword> = { ...COMMON_KEYWORDS, ...LOOP };
export const IMPORT_KEYWORDS: Record<string, Keyword> = { ...COMMON_KEYWORDS };
export const INCLUDE_ACTIONS = ['include_tasks', 'import_tasks'] as const;

/**
 * An action's short name: Ansible also accepts include_tasks, import_tasks, include_role, import_role and
 * import_playbook under ansible.builtin. and ansible.legacy. (modules' FQCNs are the registry's).
 */
export function shortActionName(key: string): string {
  const m = /^ansible\.(?:builtin|legacy)\.(\w+)$/.exec(key);
  return m ? m[1]! : key;
}

/** include_tasks and import_tasks, by their short or ansible.builtin / ansible.legacy names. */
export function includeActionOf(key: string): (typeof INCLUDE_ACTIONS)[number] | undefined {
  const short = shortActionName(key);
  return (INCLUDE_ACTIONS as readonly string[]).includes(short)
    ? (short as (typeof INCLUDE_ACTIONS)[number])
    : undefined;
}

export const INCLUDE_VALUE: Keyword = kw(
  {
    anyOf: [
      { type: 'string', minLength: 1 },
      {
        type: 'object',
        required: ['file'],
        additionalProperties: false,
        properties: { file: { type: 'string', minLength: 1 } },
      },
    ],
  },
  'a task file name',
  'Task file, looked up beside this file, then in tasks/',
);

/** A role of `roles:` or of a role's meta dependencies: the role, and keywords its tasks inherit. Any other
 * key is a role parameter, as in Ansible. */
export const ROLE_KEYWORDS: Record<string, Keyword> = {
  ...COMMON_KEYWORDS,
  role: kw({ type: 'string', minLength: 1 }, 'a role name', 'The role: a directory under roles/ (or a path)'),
  name: kw({ type: 'string', minLength: 1 }, 'a role name', 'The role (the same as role:)'),
  vars: kw({ type: 'object' }, 'a mapping of variables', "The role's parameters (variables of its tasks)"),
};
export const ROLE_ACTIONS = ['include_role', 'import_role'] as const;
const roleFile = (what: string): JsonSchema => ({
  type: 'string',
  minLength: 1,
  description: `File of the role's ${what}/ to load instead of main.yml`,
});
export const ROLE_ACTION_VALUE: Keyword = kw(
  {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, description: 'The role (include_role: may be a template)' },
      tasks_from: roleFile('tasks'),
      vars_from: roleFile('vars'),
      defaults_from: roleFile('defaults'),
      handlers_from: roleFile('handlers'),
      allow_duplicates: {
        type: 'boolean',
        description: 'false: run the role only once per play with the same parameters (default true)',
      },
      public: {
        type: 'boolean',
        description: "include_role: true exposes the role's defaults and vars to the rest of the play",
      },
      rolespec_validate: { type: 'boolean', description: 'Accepted; argument specs are not checked' },
    },
  },
  'a mapping with the role name (name:) and optionally tasks_from, vars_from, defaults_from, handlers_from',
  'Role to run here: its tasks, with its defaults, vars and handlers',
);

/** Keywords beside `import_playbook:` (Ansible's PlaybookInclude): they apply to every imported play. */
export const IMPORT_PLAYBOOK_KEYWORDS: Record<string, Keyword> = {
  name: kw(string, 'a string', 'A label for the import (not shown)'),
  vars: kw(
    { type: 'object' },
    'a mapping of variables',
    "Variables given to every imported play (they win over the play's own vars)",
  ),
  tags: COMMON_KEYWORDS.tags!,
  when: kw(
    conditions,
    'a condition (a string) or a list of conditions',
    'Added to the conditions of every task of the imported plays (not their handlers)',
  ),
};
export const IMPORT_PLAYBOOK_VALUE: Keyword = kw(
  { type: 'string', minLength: 1 },
  'a playbook file name',
  'Playbook whose plays run here, relative to this playbook',
);

export const PLAY_KEYWORDS: Record<string, Keyword> = {
  name: kw(string, 'a string', 'Shown in progress output (default: the hosts pattern)'),
  hosts: kw(
    {
      anyOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', minItems: 1, items: { type: 'string' } },
      ],
    },
    "a host pattern like 'web:&prod' or a list of patterns",
    'Hosts or groups to run on (Ansible host patterns)',
  ),
  vars: kw({ type: 'object' }, 'a mapping of variables', 'Play variables'),
  vars_prompt: kw(
    {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', pattern: IDENTIFIER, description: 'The variable the answer goes to' },
          prompt: { type: 'string', description: 'The question (default: the name)' },
          private: {
            type: 'boolean',
            description: 'Do not echo the answer (default true); the answer is a secret',
          },
          default: { type: ['string', 'number', 'boolean'], description: 'Taken when the answer is empty' },
          confirm: { type: 'boolean', description: 'Ask twice; the answers must match' },
          unsafe: { type: 'boolean', description: 'Keep {{ }} in the answer as typed (not templated)' },
        },
      },
    },
    'a list of prompts, each with a name (and prompt, private, default, confirm)',
    'Questions asked once before the run starts (skipped for a variable given with -e); the answers are play variables',
  ),
  vars_files: kw(
    stringOrList,
    'a file name or a list of file names',
    'YAML files of variables, relative to the playbook',
  ),
  become: COMMON_KEYWORDS.become!,
  become_user: COMMON_KEYWORDS.become_user!,
  become_method: COMMON_KEYWORDS.become_method!,
  environment: COMMON_KEYWORDS.environment!,
  connection: kw(
    {
      type: 'string',
      enum: ['ssh', 'local', 'smart', 'paramiko', 'ansible.builtin.ssh', 'ansible.builtin.local'],
    },
    "'ssh' or 'local'",
    "How to reach the play's hosts where the inventory sets no ansible_connection",
  ),
  remote_user: kw(string, 'a user name', 'SSH login user where the inventory sets no ansible_user'),
  port: kw(
    { type: 'integer', minimum: 1, maximum: 65535 },
    'a port number',
    'SSH port where the inventory sets no ansible_port',
  ),
  strategy: kw(
    { type: 'string', enum: ['linear', 'ansible.builtin.linear'] },
    "'linear' (every host finishes a task before the next starts: the one strategy ewsplay has)",
    'Task order across hosts: only linear (each task on every host before the next task; free is not supported)',
  ),
  order: kw(
    { type: 'string', enum: ['inventory', 'reverse_inventory', 'sorted', 'reverse_sorted', 'shuffle'] },
    'inventory, reverse_inventory, sorted, reverse_sorted or shuffle',
    'Order in which the hosts of the play are taken',
  ),
  collections: kw(
    { type: 'array', items: string },
    'a list of collection names',
    'Accepted for Ansible compatibility: modules are found by their short or ansible.builtin names',
  ),
  diff: COMMON_KEYWORDS.diff!,
  throttle: COMMON_KEYWORDS.throttle!,
  serial: kw(
    {
      anyOf: [
        { type: 'integer', minimum: 1 },
        { type: 'string', pattern: '^[0-9]+%$' },
        {
          type: 'array',
          minItems: 1,
          items: {
            anyOf: [
              { type: 'integer', minimum: 1 },
              { type: 'string', pattern: '^[0-9]+%$' },
            ],
          },
        },
      ],
    },
    "a number of hosts, a percentage like '30%', or a list of them like [1, 5, '20%']",
    'Work through the hosts in batches of this size (a list: the first batches, its last size repeating)',
  ),
  any_errors_fatal: kw(boolean, 'true or false', 'One failed host stops the play for all hosts'),
  max_fail_percentage: kw(
    { type: 'number', minimum: 0, maximum: 100 },
    'a percentage from 0 to 100',
    'Stop the play when more than this share of a batch failed',
  ),
  check_mode: COMMON_KEYWORDS.check_mode!,
  tags: COMMON_KEYWORDS.tags!,
  gather_facts: kw(
    boolean,
    'true or false',
    "Gather the hosts' facts (ansible_hostname, ansible_facts.distribution ...) before the first task: true always, false never; not set: only when the play's tasks, handlers or variables mention a fact or it includes a file with a templated name (facts gathered earlier in the run are reused)",
  ),
  pre_tasks: kw(
    { type: 'array' },
    'a list of tasks',
    'Tasks run before the tasks; the handlers they notified run right after them',
  ),
  tasks: kw({ type: 'array' }, 'a list of tasks', 'The tasks of the play'),
  post_tasks: kw(
    { type: 'array' },
    'a list of tasks',
    'Tasks run after the tasks and their handlers; handlers they notify run at the end',
  ),
  handlers: kw({ type: 'array' }, 'a list of handlers', 'Tasks run at the end of the play when notified'),
  roles: kw(
    {
      type: 'array',
      items: {
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            properties: Object.fromEntries(Object.entries(ROLE_KEYWORDS).map(([k, v]) => [k, v.schema])),
          },
        ],
      },
    },
    "a list of roles: names, or mappings with 'role:' (and vars, tags, when ...)",
    'Roles run after pre_tasks (and their handlers) and before tasks; each once per play unless its parameters differ',
  ),
};
