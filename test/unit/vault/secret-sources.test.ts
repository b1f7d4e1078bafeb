// Where secrets are registered besides the vault: secret-named variables by the value a task sees, env
// lookups of secret-looking names; and the forms the masker knows (shell-quoted, lines of a key).
import { describe, expect, it } from 'vitest';
import { MASK, Secrets } from '../../../src/core/secrets.js';
import { registerSecretVars } from '../../../src/engine/secret-vars.js';
import { lazyVars } from '../../../src/engine/vars.js';
import { createTemplar } from '../../../src/template/templar.js';

describe('secret sources', () => {
  it('env lookups of secret-looking names are secrets; others are not', () => {
    process.env.SS_TEST_API_TOKEN = 'tok-from-env-1';
    process.env.SS_TEST_HOME_DIR = '/srv/not-secret';
    const secrets = new Secrets();
    const t = createTemplar({ secrets });
    expect(t.render("{{ lookup('env', 'SS_TEST_API_TOKEN') }}", {})).toBe('tok-from-env-1');
    t.render("{{ lookup('env', 'SS_TEST_HOME_DIR') }}", {});
    expect(secrets.mask('tok-from-env-1 /srv/not-secret')).toBe(`${MASK} /srv/not-secret`);
  });

  it('secret-named variables are registered by their rendered value', () => {
    process.env.SS_TEST_PLAIN = 'rendered-pw-77';
    const secrets = new Secrets();
    const t = createTemplar({ secrets });
    const vars = lazyVars(
      {
        ews_password: "{{ lookup('env', 'SS_TEST_PLAIN') }}",
        api: { service_token: 'nested-tok-9' },
        ansible_become_password: '{{ undefined_thing }}',
        user: 'alice-not-secret',
      },
      t,
    );
    registerSecretVars(vars, secrets);
    expect(secrets.mask('rendered-pw-77 alice-not-secret')).toBe(`${MASK} alice-not-secret`);
  });

  it("masks a secret's shell-quoted forms and each line of a multi-line secret", () => {
    const secrets = new Secrets();
    secrets.add("it's-a-secret");
    secrets.add('-----BEGIN KEY-----\nAAAABBBBCCCCDDDD\nEEEEFFFFGGGG\n-----END KEY-----');
    expect(secrets.mask(`x 'it'"'"'s-a-secret' y`)).toBe(`x '${MASK}' y`);
    expect(secrets.mask(`x 'it'\\''s-a-secret' y`)).toBe(`x '${MASK}' y`);
    expect(secrets.mask('["AAAABBBBCCCCDDDD", "EEEEFFFFGGGG"]')).toBe(`["${MASK}", "${MASK}"]`);
  });
});
