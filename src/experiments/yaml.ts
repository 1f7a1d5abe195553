// The YAML subset sweep configs use (wandb's sweep.yaml files): block mappings and sequences by
// indentation, flow lists / maps (`[1, 2]`, `{a: 1}`, nested), plain and quoted scalars, comments.
// Not supported (rejected with the line number): anchors, tags, multi-line strings, multiple documents.

/** A YAML syntax error or unsupported feature; the message names the line. */
export class YamlError extends Error {
  constructor(message: string, line: number) {
    super(`YAML line ${line}: ${message}`);
    this.name = 'YamlError';
  }
}

interface Line {
  readonly indent: number;
  readonly text: string;
  readonly no: number;
}

/** Removes a `#` comment that is outside quotes and starts the line or follows whitespace. */
function stripComment(text: string): string {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) return text.slice(0, i);
  }
  return text;
}

/** A plain or quoted scalar: numbers, true/false, null/~, else the text. */
function scalar(raw: string, no: number): unknown {
  const t = raw.trim();
  if (t === '' || t === '~' || t === 'null') return null;
  if (t === 'true' || t === 'True') return true;
  if (t === 'false' || t === 'False') return false;
  if ((t.startsWith('"') && t.endsWith('"') && t.length >= 2) || (t.startsWith("'") && t.endsWith("'") && t.length >= 2)) {
    return t[0] === '"' ? (JSON.parse(t) as string) : t.slice(1, -1).replace(/''/g, "'");
  }
  if (/^[&*!|>]/.test(t)) throw new YamlError(`unsupported YAML feature (anchor, tag or block string): ${t}`, no);
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if (/^[-+]?\.(inf|Inf)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return t;
}

/** Parses a flow collection or scalar starting at `src[pos]`; returns the value and the next position. */
function flow(src: string, pos: number, no: number): [unknown, number] {
  const skip = (p: number) => {
    while (p < src.length && /\s/.test(src[p])) p++;
    return p;
  };
  pos = skip(pos);
  const open = src[pos];
  if (open === '[' || open === '{') {
    const close = open === '[' ? ']' : '}';
    const list: unknown[] = [];
    const map: Record<string, unknown> = {};
    pos = skip(pos + 1);
    if (src[pos] === close) return [open === '[' ? list : map, pos + 1];
    for (;;) {
      if (open === '[') {
        const [v, next] = flow(src, pos, no);
        list.push(v);
        pos = skip(next);
      } else {
        const colon = src.indexOf(':', pos);
        if (colon < 0) throw new YamlError(`expected key: value in ${src}`, no);
        const key = scalar(src.slice(pos, colon), no);
        const [v, next] = flow(src, colon + 1, no);
        map[String(key)] = v;
        pos = skip(next);
      }
      if (src[pos] === ',') {
        pos = skip(pos + 1);
        continue;
      }
      if (src[pos] === close) return [open === '[' ? list : map, pos + 1];
      throw new YamlError(`expected , or ${close} in ${src}`, no);
    }
  }
  let end = pos;
  let quote = '';
  for (; end < src.length; end++) {
    const c = src[end];
    if (quote) {
      if (c === quote) quote = '';
    } else if ((c === '"' || c === "'") && end === pos) quote = c;
    else if (c === ',' || c === ']' || c === '}') break;
  }
  return [scalar(src.slice(pos, end), no), end];
}

function value(text: string, no: number): unknown {
  const t = text.trim();
  if (t.startsWith('[') || t.startsWith('{')) {
    const [v, end] = flow(t, 0, no);
    if (t.slice(end).trim() !== '') throw new YamlError(`unexpected text after the flow collection: ${t.slice(end)}`, no);
    return v;
  }
  return scalar(t, no);
}

/** Index of the `key: ` separator of a mapping line (outside quotes and flow brackets), or -1. */
function keyColon(text: string): number {
  let quote = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ':' && depth === 0 && (i + 1 === text.length || text[i + 1] === ' ')) return i;
  }
  return -1;
}

/** Parses the YAML subset described above into plain JSON values. */
export function parseYaml(source: string): unknown {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    if (raw.includes('\t') && /^\s*\t/.test(raw)) throw new YamlError('tabs are not allowed for indentation', i + 1);
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '' || text.trim() === '---') return;
    if (text.trim() === '...') return;
    lines.push({ indent: text.length - text.trimStart().length, text: text.trimStart(), no: i + 1 });
  });
  let k = 0;

  const block = (indent: number): unknown => {
    const first = lines[k];
    if (first.text.startsWith('- ') || first.text === '-') {
      const list: unknown[] = [];
      while (k < lines.length && lines[k].indent === indent && (lines[k].text.startsWith('- ') || lines[k].text === '-')) {
        const line = lines[k];
        const rest = line.text.slice(1).trimStart();
        if (rest === '') {
          k++;
          list.push(k < lines.length && lines[k].indent > indent ? block(lines[k].indent) : null);
        } else if (keyColon(rest) >= 0 && !rest.startsWith('[') && !rest.startsWith('{')) {
          // "- key: value" starts a mapping whose keys sit at the column after "- ".
          const inner = indent + (line.text.length - rest.length);
          lines[k] = { indent: inner, text: rest, no: line.no };
          list.push(block(inner));
        } else {
          k++;
          list.push(value(rest, line.no));
        }
      }
      return list;
    }
    const map: Record<string, unknown> = {};
    while (k < lines.length && lines[k].indent === indent) {
      const line = lines[k];
      const colon = keyColon(line.text);
      if (colon < 0) throw new YamlError(`expected "key: value", got ${JSON.stringify(line.text)}`, line.no);
      const key = String(scalar(line.text.slice(0, colon), line.no));
      if (key in map) throw new YamlError(`duplicate key ${JSON.stringify(key)}`, line.no);
      const rest = line.text.slice(colon + 1).trim();
      k++;
      if (rest !== '') map[key] = value(rest, line.no);
      else if (k < lines.length && (lines[k].indent > indent || (lines[k].indent === indent && lines[k].text.startsWith('- ')))) map[key] = block(lines[k].indent);
      else map[key] = null;
    }
    if (k < lines.length && lines[k].indent > indent) throw new YamlError('unexpected indentation', lines[k].no);
    return map;
  };

  if (lines.length === 0) return null;
  const result = block(lines[0].indent);
  if (k < lines.length) throw new YamlError('unexpected indentation', lines[k].no);
  return result;
}
