// A small namespace-aware XML reader for the fake EWS server. Requests are matched by local name and
// namespace URI, never by prefix, because clients choose their own prefixes (m:, t:, soap:, or none).
export interface XmlElement {
  /** Local name without prefix. */
  local: string;
  /** Resolved namespace URI ('' when none). */
  ns: string;
  /** Attributes by local name (namespace declarations excluded). */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    const named = ENTITIES[ref];
    if (named === undefined) throw new Error(`unknown XML entity ${whole}`);
    return named;
  });
}

interface Open {
  el: XmlElement;
  qname: string;
  scope: Map<string, string>;
}

/** Parses a whole document and returns its root element; throws on malformed input. */
export function parseXml(text: string): XmlElement {
  const stack: Open[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  const resolve = (qname: string, scope: Map<string, string>, isAttr: boolean): [string, string] => {
    const colon = qname.indexOf(':');
    const prefix = colon < 0 ? '' : qname.slice(0, colon);
    const local = colon < 0 ? qname : qname.slice(colon + 1);
    if (isAttr && !prefix) return [local, ''];
    const ns = scope.get(prefix);
    if (ns === undefined && prefix) throw new Error(`undeclared namespace prefix ${prefix}:`);
    return [local, ns ?? ''];
  };
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const top = stack[stack.length - 1];
    const chars = text.slice(i, lt < 0 ? text.length : lt);
    if (top) top.el.text += decode(chars);
    else if (chars.trim()) throw new Error('text outside the root element');
    if (lt < 0) break;
    if (text.startsWith('<?', lt)) {
      i = mustFind(text, '?>', lt) + 2;
    } else if (text.startsWith('<!--', lt)) {
      i = mustFind(text, '-->', lt) + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = mustFind(text, ']]>', lt);
      if (top) top.el.text += text.slice(lt + 9, end);
      i = end + 3;
    } else if (text.startsWith('<!', lt)) {
      throw new Error('DOCTYPE and entity declarations are not accepted');
    } else if (text.startsWith('</', lt)) {
      const end = mustFind(text, '>', lt);
      const qname = text.slice(lt + 2, end).trim();
      const open = stack.pop();
      if (!open || open.qname !== qname) throw new Error(`mismatched closing tag </${qname}>`);
      i = end + 1;
    } else {
      const m = /^<([^\s/>]+)((?:\s+[^\s=]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(text.slice(lt));
      if (!m) throw new Error(`malformed tag at offset ${lt}`);
      const [whole, qname = '', attrText = '', selfClose] = m;
      const scope = new Map(top?.scope ?? [['xml', 'http://www.w3.org/XML/1998/namespace']]);
      const raw: [string, string][] = [];
      for (const a of attrText.matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        const name = a[1] ?? '';
        const value = decode(a[2] ?? a[3] ?? '');
        if (name === 'xmlns') scope.set('', value);
        else if (name.startsWith('xmlns:')) scope.set(name.slice(6), value);
        else raw.push([name, value]);
      }
      const [local, ns] = resolve(qname, scope, false);
      const el: XmlElement = { local, ns, attrs: {}, children: [], text: '' };
      for (const [name, value] of raw) el.attrs[resolve(name, scope, true)[0]] = value;
      if (top) top.el.children.push(el);
      else if (root) throw new Error('more than one root element');
      else root = el;
      if (!selfClose) stack.push({ el, qname, scope });
      i = lt + whole.length;
    }
  }
  if (stack.length) throw new Error(`unclosed element <${stack[stack.length - 1]?.qname}>`);
  if (!root) throw new Error('no root element');
  return root;
}

function mustFind(text: string, needle: string, from: number): number {
  const at = text.indexOf(needle, from);
  if (at < 0) throw new Error(`unterminated markup at offset ${from}`);
  return at;
}

/** The first child with this local name (and namespace, when given). */
export function child(el: XmlElement | undefined, local: string, ns?: string): XmlElement | undefined {
  return el?.children.find((c) => c.local === local && (ns === undefined || c.ns === ns));
}

/** Every descendant with this local name, depth first. */
export function descendants(el: XmlElement | undefined, local: string): XmlElement[] {
  if (!el) return [];
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (c.local === local) out.push(c);
    out.push(...descendants(c, local));
  }
  return out;
}

/** Escapes text for element content and attribute values. */
export function esc(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  );
}
