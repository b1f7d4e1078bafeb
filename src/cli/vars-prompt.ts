// vars_prompt: the questions of every play, asked once before any host is touched (Ansible asks at the start
// of each play, which can leave a run waiting halfway), and once for a whole multi-site rollout. A variable
// given with -e is not asked. Private answers (the default) are secrets. Without a terminal, a prompt with a
// default takes it; one without is a usage error saying to pass -e.
import { createInterface } from 'node:readline/promises';
import type { Playbook, Vars, VarsPrompt } from '../core/model.js';
import { UsageError } from '../core/problems.js';
import type { Secrets } from '../core/secrets.js';
import { canPrompt, promptHidden } from '../vault/prompt.js';

export interface PromptIO {
  canPrompt(): boolean;
  hidden(question: string): Promise<string>;
  visible(question: string): Promise<string>;
}

const terminal: PromptIO = {
  canPrompt,
  hidden: promptHidden,
  async visible(question) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

const CONFIRM_TRIES = 3;

/** Returns a function that asks a playbook's prompts (once per play and name) and puts the answers in its plays. */
export function varsPrompter(
  extraVars: Vars,
  secrets: Secrets,
  io: PromptIO = terminal,
): (playbook: Playbook) => Promise<void> {
  const answers = new Map<string, Promise<unknown>>();
  // One question at a time, whichever site asks first.
  let queue: Promise<unknown> = Promise.resolve();
  const ask = (key: string, prompt: VarsPrompt, play: string): Promise<unknown> => {
    let answer = answers.get(key);
    if (!answer) {
      answer = queue.then(() => askOne(prompt, play, io, secrets));
      queue = answer.catch(() => undefined);
      answers.set(key, answer);
    }
    return answer;
  };
  return async (playbook) => {
    for (const [index, play] of playbook.plays.entries()) {
      for (const prompt of play.varsPrompt ?? []) {
        if (prompt.name in extraVars) continue;
        play.vars = { ...play.vars, [prompt.name]: await ask(`${index}\0${prompt.name}`, prompt, play.name) };
      }
    }
  };
}

async function askOne(prompt: VarsPrompt, play: string, io: PromptIO, secrets: Secrets): Promise<unknown> {
  const secret = prompt.private !== false;
  if (!io.canPrompt()) {
    if (prompt.default !== undefined) return prompt.default;
    throw new UsageError(
      `play '${play}' asks for '${prompt.name}' (vars_prompt) and there is no terminal to ask on`,
      `give it on the command line: -e ${prompt.name}=...${secret ? ' (or in a vault file, with -e @vault.yml)' : ''}`,
    );
  }
  const text = prompt.prompt ?? prompt.name;
  const question = `${text}${prompt.default !== undefined ? ` [${String(prompt.default)}]` : ''}: `;
  const read = (q: string) => (secret ? io.hidden(q) : io.visible(q));
  for (let attempt = 1; ; attempt++) {
    const typed = await read(question);
    if (prompt.confirm) {
      const again = await read(`confirm ${text}: `);
      if (again !== typed) {
        if (attempt >= CONFIRM_TRIES)
          throw new UsageError(`the answers for '${prompt.name}' did not match ${CONFIRM_TRIES} times`);
        process.stderr.write('***** VALUES ENTERED DO NOT MATCH ****\n');
        continue;
      }
    }
    const value = typed === '' && prompt.default !== undefined ? prompt.default : typed;
    if (secret && typeof value === 'string') secrets.add(value);
    // Variables are templated when read; `unsafe: true` keeps an answer's {{ }} as typed, as in Ansible.
    if (prompt.unsafe && typeof value === 'string' && /\{[{%#]/.test(value))
      return `{% raw %}${value}{% endraw %}`;
    return value;
  }
}
