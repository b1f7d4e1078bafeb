// template: renders a control-node Jinja template with the task's variables and puts the result on the
// target exactly as copy does (same idempotence, check mode, diff, backup).
import { posix } from 'node:path';
import { TemplateError } from '../template/errors.js';
import { pyStr } from '../template/python.js';
import { ensureContent, OWNERSHIP_SCHEMA, type OwnershipArgs, ownershipArgs } from './copy.js';
import { defineModule } from './kit.js';
import type { Module } from './module.js';
import { readControlFile } from './remote.js';

/** template's arguments, as its schema declares them (defaults applied). */
interface TemplateArgs extends OwnershipArgs {
  src: string;
  dest: string;
  backup: boolean;
  force: boolean;
}

export const templateModule: Module = defineModule<TemplateArgs>({
  name: 'template',
  summary: 'Render a Jinja template from the control node and put the result on the target',
  args: {
    type: 'object',
    additionalProperties: false,
    required: ['src', 'dest'],
    properties: {
      src: {
        type: 'string',
        minLength: 1,
        description: 'Template on the control node, relative to the playbook (its templates/ folder first)',
      },
      dest: { type: 'string', minLength: 1, description: 'Path of the rendered file on the target' },
      ...OWNERSHIP_SCHEMA,
      backup: {
        type: 'boolean',
        default: false,
        description: 'Keep a copy <dest>.<timestamp>~ before overwriting',
      },
      force: {
        type: 'boolean',
        default: true,
        description: 'false: only create the file when it does not exist',
      },
    },
  },
  check: 'full',
  async run(ctx, args) {
    const { src, dest } = args;
    const file = await readControlFile(ctx, src, 'templates');
    // Ansible's template variables, visible to the template only.
    const vars = Object.create(ctx.vars) as Record<string, unknown>;
    Object.assign(vars, {
      template_path: file.path,
      template_fullpath: file.path,
      template_host: ctx.host,
      template_destpath: dest,
      ansible_managed: 'Ansible managed',
    });
    let rendered: unknown;
    try {
      rendered = ctx.template.render(file.content.toString('utf8'), vars);
    } catch (e) {
      if (e instanceof TemplateError)
        throw new TemplateError(`${file.path}${e.line ? `:${e.line}` : ''}: ${e.message}`, e.variable);
      throw e;
    }
    const text = typeof rendered === 'string' ? rendered : pyStr(rendered);
    const target = dest.endsWith('/') ? posix.join(dest, posix.basename(src).replace(/\.j2$/, '')) : dest;
    return ensureContent(ctx, target, Buffer.from(text, 'utf8'), {
      ...ownershipArgs(args),
      backup: args.backup,
      force: args.force,
    });
  },
});
