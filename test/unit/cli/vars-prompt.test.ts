// vars_prompt: asked once per play and name (across sites too), skipped for -e variables, private answers
// masked, defaults, confirmation, and a clear stop without a terminal.
import { describe, expect, it } from 'vitest';
import { type PromptIO, varsPrompter } from '../../../src/cli/vars-prompt.js';
import type { Playbook, VarsPrompt } from '../../../src/core/model.js';
import { MASK, Secrets } from '../../../src/core/secrets.js';

function playbook(prompts: VarsPrompt[]): Playbook {
  const play = {
    name: 'p',
    hosts: 'all',
    vars: { keep: 1 },
    varsFiles: [],
    varsPrompt: prompts,
    anyErrorsFatal: false,
    tags: [],
    tasks: [],
    handlers: [],
  };
  return { file: 'site.yml', plays: [play as unknown as Playbook['plays'][number]] };
}

function io(answers: string[], tty = true): PromptIO & { asked: string[] } {
  const asked: string[] = [];
  const next = async (q: string) => {
    asked.push(q);
    return answers.shift() ?? '';
  };
  return { asked, canPrompt: () => tty, hidden: next, visible: next };
}

describe('vars_prompt', () => {
  it('asks each prompt once, even for several sites, and sets play variables', async () => {
    const terminal = io(['alice', 's3cr3t-pw']);
    const secrets = new Secrets();
    const ask = varsPrompter({}, secrets, terminal);
    const prompts: VarsPrompt[] = [
      { name: 'user', prompt: 'Your name', private: false },
      { name: 'password', prompt: 'Password' },
    ];
    const [a, b] = [playbook(prompts), playbook(prompts)];
    await ask(a);
    await ask(b);
    expect(terminal.asked).toEqual(['Your name: ', 'Password: ']);
    expect(a.plays[0]!.vars).toEqual({ keep: 1, user: 'alice', password: 's3cr3t-pw' });
    expect(b.plays[0]!.vars).toEqual(a.plays[0]!.vars);
    // Private (the default) answers are secrets; the others are not.
    expect(secrets.mask('alice s3cr3t-pw')).toBe(`alice ${MASK}`);
  });

  it('skips a variable given with -e, and takes the default on an empty answer', async () => {
    const terminal = io(['']);
    const book = playbook([
      { name: 'given' },
      { name: 'port', prompt: 'Port', default: 8443, private: false },
    ]);
    await varsPrompter({ given: 'x' }, new Secrets(), terminal)(book);
    expect(terminal.asked).toEqual(['Port [8443]: ']);
    expect(book.plays[0]!.vars).toMatchObject({ port: 8443 });
    expect(book.plays[0]!.vars).not.toHaveProperty('given');
  });

  it('confirm: asks again until both answers match', async () => {
    const terminal = io(['one', 'two', 'pw', 'pw']);
    const book = playbook([{ name: 'pw', prompt: 'New password', confirm: true }]);
    await varsPrompter({}, new Secrets(), terminal)(book);
    expect(terminal.asked).toEqual([
      'New password: ',
      'confirm New password: ',
      'New password: ',
      'confirm New password: ',
    ]);
    expect(book.plays[0]!.vars.pw).toBe('pw');
  });

  it('keeps {{ }} as typed with unsafe: true', async () => {
    const book = playbook([{ name: 'raw', unsafe: true }]);
    await varsPrompter({}, new Secrets(), io(['a{{b}}']))(book);
    expect(book.plays[0]!.vars.raw).toBe('{% raw %}a{{b}}{% endraw %}');
  });

  it('without a terminal: a default is taken; no default is a usage error naming -e', async () => {
    const withDefault = playbook([{ name: 'region', default: 'eu' }]);
    await varsPrompter({}, new Secrets(), io([], false))(withDefault);
    expect(withDefault.plays[0]!.vars.region).toBe('eu');
    await expect(
      varsPrompter({}, new Secrets(), io([], false))(playbook([{ name: 'token' }])),
    ).rejects.toThrow(/asks for 'token' \(vars_prompt\) and there is no terminal/);
  });
});
