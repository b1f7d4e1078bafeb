// The variables loop_control adds to each item, as Ansible sets them: index_var, and ansible_loop with
// extended (index is 1-based, index0 0-based; previtem and nextitem exist only where there is one).
import type { LoopControl, Vars } from '../core/model.js';

export function loopControlVars(control: LoopControl | undefined, items: unknown[], index: number): Vars {
  if (!control) return {};
  const vars: Vars = {};
  if (control.indexVar) vars[control.indexVar] = index;
  if (control.extended) {
    const length = items.length;
    const loop: Vars = {
      index: index + 1,
      index0: index,
      revindex: length - index,
      revindex0: length - index - 1,
      first: index === 0,
      last: index === length - 1,
      length,
    };
    if (control.allItems !== false) loop.allitems = items;
    if (index > 0) loop.previtem = items[index - 1];
    if (index < length - 1) loop.nextitem = items[index + 1];
    vars.ansible_loop = loop;
  }
  return vars;
}

/** What Ansible adds to each registered item result besides the item itself. */
export function loopResultVars(control: LoopControl | undefined, items: unknown[], index: number): Vars {
  const vars = loopControlVars(control, items, index);
  if (control?.indexVar) vars.ansible_index_var = control.indexVar;
  return vars;
}
