// kubectl's JSONPath dialect (k8s.io/client-go/util/jsonpath), ported closely so that
// templates people already use with `kubectl get -o jsonpath=` behave the same here:
// the same parser, the same range/end bookkeeping, the same comparison rules and the same
// printing (strings raw, maps and arrays as compact JSON with sorted keys, results of one
// action separated by spaces). Values are JSON as the API server sends it; like kubectl's
// unstructured decoding, whole numbers are ints and the rest floats, which matters for
// filters (`@.replicas>1.5` is an error in kubectl, so it is here). The test table in
// test/fixtures/jsonpath-cases.json is generated from client-go's own tests.

export class JSONPathError extends Error {}

type ParamsEntry = { value: number; known: boolean; derived: boolean };

type Node =
  | { type: 'NodeText'; text: string }
  | { type: 'NodeArray'; params: [ParamsEntry, ParamsEntry, ParamsEntry] }
  | { type: 'NodeList'; nodes: Node[] }
  | { type: 'NodeField'; value: string }
  | { type: 'NodeIdentifier'; name: string }
  | { type: 'NodeFilter'; left: ListNode; right: ListNode; operator: string }
  | { type: 'NodeInt'; value: number }
  | { type: 'NodeFloat'; value: number }
  | { type: 'NodeWildcard' }
  | { type: 'NodeRecursive' }
  | { type: 'NodeUnion'; nodes: ListNode[] }
  | { type: 'NodeBool'; value: boolean };
type ListNode = Extract<Node, { type: 'NodeList' }>;

const newList = (): ListNode => ({ type: 'NodeList', nodes: [] });

/** The node's text as client-go's Node.String() gives it (parser tests compare these). */
export function nodeString(n: Node): string {
  switch (n.type) {
    case 'NodeText':
      return `NodeText: ${n.text}`;
    case 'NodeField':
      return `NodeField: ${n.value}`;
    case 'NodeIdentifier':
      return `NodeIdentifier: ${n.name}`;
    case 'NodeArray':
      return `NodeArray: [${n.params.map((p) => `{${p.value} ${p.known} ${p.derived}}`).join(' ')}]`;
    case 'NodeFilter':
      return `NodeFilter: NodeList ${n.operator} NodeList`;
    case 'NodeInt':
      return `NodeInt: ${n.value}`;
    case 'NodeFloat':
      return `NodeFloat: ${n.value.toFixed(6)}`;
    case 'NodeBool':
      return `NodeBool: ${n.value}`;
    case 'NodeList':
    case 'NodeRecursive':
    case 'NodeUnion':
    case 'NodeWildcard':
      return n.type;
  }
}

// ---------------------------------------------------------------------------------------
// Parser (client-go util/jsonpath/parser.go)

const EOF = -1;
const dictKeyRex = /^'([^']*)'$/;
const sliceOperatorRex = /^(-?\d*)(:-?\d*)?(:-?\d*)?$/;

class Parser {
  root: ListNode = newList();
  private input = '';
  private pos = 0;
  private start = 0;
  private width = 0;

  parse(text: string): ListNode {
    this.input = text;
    this.root = newList();
    this.pos = 0;
    this.parseText(this.root);
    return this.root;
  }

  private consumeText(): string {
    const v = this.input.slice(this.start, this.pos);
    this.start = this.pos;
    return v;
  }

  // Works on UTF-16 code points; positions are string indexes, which is all the parser needs.
  private next(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      return EOF;
    }
    const r = this.input.codePointAt(this.pos)!;
    this.width = r > 0xffff ? 2 : 1;
    this.pos += this.width;
    return r;
  }

  private peek(): number {
    const r = this.next();
    this.backup();
    return r;
  }

  private backup(): void {
    this.pos -= this.width;
  }

  private parseText(cur: ListNode): void {
    for (;;) {
      if (this.input.startsWith('{', this.pos)) {
        if (this.pos > this.start) cur.nodes.push({ type: 'NodeText', text: this.consumeText() });
        return this.parseLeftDelim(cur);
      }
      if (this.next() === EOF) break;
    }
    if (this.pos > this.start) cur.nodes.push({ type: 'NodeText', text: this.consumeText() });
  }

  private parseLeftDelim(cur: ListNode): void {
    this.pos += 1;
    this.consumeText();
    const n = newList();
    cur.nodes.push(n);
    return this.parseInsideAction(n);
  }

  private parseInsideAction(cur: ListNode): void {
    // Loop instead of Go's tail recursion: long templates must not overflow the stack.
    for (;;) {
      const rest = this.input.slice(this.pos);
      if (rest.startsWith('}')) return this.parseRightDelim();
      if (rest.startsWith('[?(')) return this.parseFilter(cur);
      if (rest.startsWith('..')) return this.parseRecursive(cur);
      const r = this.next();
      const ch = r === EOF ? '' : String.fromCodePoint(r);
      if (r === EOF || isEndOfLine(r)) throw new JSONPathError('unclosed action');
      else if (ch === ' ' || ch === '@' || ch === '$') this.consumeText();
      else if (ch === '[') return this.parseArray(cur);
      else if (ch === '"' || ch === "'") return this.parseQuote(cur, r);
      else if (ch === '.') return this.parseField(cur);
      else if (ch === '+' || ch === '-' || isDigit(r)) {
        this.backup();
        return this.parseNumber(cur);
      } else if (isAlphaNumeric(r)) {
        this.backup();
        return this.parseIdentifier(cur);
      } else throw new JSONPathError(`unrecognized character in action: ${goRuneU(r)}`);
    }
  }

  private parseRightDelim(): void {
    this.pos += 1;
    this.consumeText();
    return this.parseText(this.root);
  }

  private parseIdentifier(cur: ListNode): void {
    for (;;) {
      const r = this.next();
      if (isTerminator(r)) {
        this.backup();
        break;
      }
    }
    const value = this.consumeText();
    if (value === 'true' || value === 'false') cur.nodes.push({ type: 'NodeBool', value: value === 'true' });
    else cur.nodes.push({ type: 'NodeIdentifier', name: value });
    return this.parseInsideAction(cur);
  }

  private parseRecursive(cur: ListNode): void {
    if (cur.nodes.length && cur.nodes[cur.nodes.length - 1].type === 'NodeRecursive') throw new JSONPathError('invalid multiple recursive descent');
    this.pos += 2;
    this.consumeText();
    cur.nodes.push({ type: 'NodeRecursive' });
    if (isAlphaNumeric(this.peek())) return this.parseField(cur);
    return this.parseInsideAction(cur);
  }

  private parseNumber(cur: ListNode): void {
    const r = this.peek();
    if (r === 0x2b || r === 0x2d) this.next();
    for (;;) {
      const c = this.next();
      if (c !== 0x2e && !isDigit(c)) {
        this.backup();
        break;
      }
    }
    const value = this.consumeText();
    if (isAtoi(value)) cur.nodes.push({ type: 'NodeInt', value: Number(value) });
    else if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(value)) cur.nodes.push({ type: 'NodeFloat', value: Number(value) });
    else throw new JSONPathError(`cannot parse number ${value}`);
    return this.parseInsideAction(cur);
  }

  private parseArray(cur: ListNode): void {
    for (;;) {
      const r = this.next();
      if (r === EOF || r === 0x0a) throw new JSONPathError('unterminated array');
      if (r === 0x5d) break;
    }
    let text = this.consumeText();
    text = text.slice(1, -1);
    if (text === '*') text = ':';
    const strs = text.split(',');
    if (strs.length > 1) {
      const union: ListNode[] = strs.map((s) => parseAction(`[${s.replace(/^ +| +$/g, '')}]`));
      cur.nodes.push({ type: 'NodeUnion', nodes: union });
      return this.parseInsideAction(cur);
    }
    const dict = dictKeyRex.exec(text);
    if (dict) {
      for (const n of parseAction(`.${dict[1]}`).nodes) cur.nodes.push(n);
      return this.parseInsideAction(cur);
    }
    const m = sliceOperatorRex.exec(text);
    if (!m) throw new JSONPathError(`invalid array index ${text}`);
    const value = [m[1] ?? '', m[2] ?? '', m[3] ?? ''];
    const params: ParamsEntry[] = [];
    for (let i = 0; i < 3; i++) {
      let v = value[i];
      const p: ParamsEntry = { value: 0, known: false, derived: false };
      if (v !== '') {
        if (i > 0) v = v.slice(1);
        if (i > 0 && v === '') p.known = false;
        else {
          p.known = true;
          if (!isAtoi(v)) throw new JSONPathError(`array index ${v} is not a number`);
          p.value = Number(v);
        }
      } else if (i === 1) {
        p.known = true;
        p.value = params[0].value + 1;
        p.derived = true;
      }
      params.push(p);
    }
    cur.nodes.push({ type: 'NodeArray', params: params as [ParamsEntry, ParamsEntry, ParamsEntry] });
    return this.parseInsideAction(cur);
  }

  private parseFilter(cur: ListNode): void {
    this.pos += 3;
    this.consumeText();
    let begin = false;
    let end = false;
    let pair = 0;
    for (;;) {
      const r = this.next();
      if (r === EOF || r === 0x0a) throw new JSONPathError('unterminated filter');
      if (r === 0x22 || r === 0x27) {
        if (!begin) {
          begin = true;
          pair = r;
          continue;
        }
        if (this.input[this.pos - 2] !== '\\' && r === pair) end = true;
      } else if (r === 0x29) {
        if (begin === end) break;
      }
    }
    if (this.next() !== 0x5d) throw new JSONPathError('unclosed array expect ]');
    let text = this.consumeText();
    text = text.slice(0, -2);
    const m = /^([^!<>=]+)([!<>=]+)(.+?)$/.exec(text);
    if (!m) cur.nodes.push({ type: 'NodeFilter', left: parseAction(text), right: newList(), operator: 'exists' });
    else cur.nodes.push({ type: 'NodeFilter', left: parseAction(m[1]), right: parseAction(m[3]), operator: m[2] });
    return this.parseInsideAction(cur);
  }

  private parseQuote(cur: ListNode, end: number): void {
    for (;;) {
      const r = this.next();
      if (r === EOF || r === 0x0a) throw new JSONPathError('unterminated quoted string');
      if (r === end && this.input[this.pos - 2] !== '\\') break;
    }
    const value = this.consumeText();
    let s: string;
    try {
      s = unquoteExtend(value);
    } catch (e) {
      throw new JSONPathError(`unquote string ${value} error ${(e as Error).message}`);
    }
    cur.nodes.push({ type: 'NodeText', text: s });
    return this.parseInsideAction(cur);
  }

  private parseField(cur: ListNode): void {
    this.consumeText();
    while (this.advance());
    const value = this.consumeText();
    if (value === '*') cur.nodes.push({ type: 'NodeWildcard' });
    else cur.nodes.push({ type: 'NodeField', value: value.replaceAll('\\', '') });
    return this.parseInsideAction(cur);
  }

  private advance(): boolean {
    const r = this.next();
    if (r === 0x5c) this.next();
    else if (isTerminator(r)) {
      this.backup();
      return false;
    }
    return true;
  }
}

/** Go's strconv.Atoi accepts it: an optional sign, digits, within int64 (beyond, the parser takes a float). */
function isAtoi(s: string): boolean {
  if (!/^[+-]?\d+$/.test(s)) return false;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

function parseAction(text: string): ListNode {
  return new Parser().parse(`{${text}}`).nodes[0] as ListNode;
}

function isTerminator(r: number): boolean {
  if (r === EOF || r === 0x20 || r === 0x09 || isEndOfLine(r)) return true;
  return '.,[]$@{}'.includes(String.fromCodePoint(r));
}
const isEndOfLine = (r: number) => r === 0x0d || r === 0x0a;
const isDigit = (r: number) => r >= 0 && /\p{Nd}/u.test(String.fromCodePoint(r));
const isAlphaNumeric = (r: number) => r >= 0 && (r === 0x5f || /[\p{L}\p{Nd}]/u.test(String.fromCodePoint(r)));

/** Go's %#U: U+002A '*'. */
function goRuneU(r: number): string {
  return `U+${r.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(r)}'`;
}

/** Go's strconv.UnquoteChar rules for "..." and '...' (client-go's UnquoteExtend). */
function unquoteExtend(s: string): string {
  if (s.length < 2) throw new Error('invalid syntax');
  const quote = s[0];
  if (quote !== s[s.length - 1] || (quote !== '"' && quote !== "'")) throw new Error('invalid syntax');
  s = s.slice(1, -1);
  if (!s.includes('\\') && !s.includes(quote)) return s;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  let i = 0;
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34 };
  while (i < s.length) {
    const c = s[i];
    if (c === quote && quote === "'") throw new Error('invalid syntax');
    if (c !== '\\') {
      const cp = s.codePointAt(i)!;
      bytes.push(...enc.encode(String.fromCodePoint(cp)));
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = s[i + 1];
    if (e === undefined) throw new Error('invalid syntax');
    i += 2;
    if (e in simple) {
      if ((e === "'" || e === '"') && e !== quote) throw new Error('invalid syntax');
      bytes.push(simple[e]);
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = s.slice(i, i + n);
      if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) throw new Error('invalid syntax');
      i += n;
      const v = parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else {
        if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) throw new Error('invalid syntax');
        bytes.push(...enc.encode(String.fromCodePoint(v)));
      }
    } else if (e >= '0' && e <= '7') {
      const oct = s.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(oct)) throw new Error('invalid syntax');
      const v = parseInt(oct, 8);
      if (v > 255) throw new Error('invalid syntax');
      bytes.push(v);
      i += 2;
    } else throw new Error('invalid syntax');
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

// ---------------------------------------------------------------------------------------
// Evaluation (client-go util/jsonpath/jsonpath.go)

/** A float literal from the template (`1.0`): Go keeps it a float64, unlike the int `1`. */
class GoFloat {
  constructor(readonly value: number) {}
}
/** A byte of a string under `.*`, as Go's reflect yields it. */
class GoByte {
  constructor(readonly value: number) {}
}
type Value = unknown;
type Kind = 'bool' | 'int' | 'float' | 'string' | 'map' | 'slice' | 'nil' | 'invalid';

function kindOf(v: Value): Kind {
  if (v === null || v === undefined) return 'nil';
  if (v instanceof GoFloat) return 'float';
  if (v instanceof GoByte) return 'int';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'number':
      return isInt(v) ? 'int' : 'float';
    case 'object':
      return Array.isArray(v) ? 'slice' : 'map';
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      break;
  }
  // JSON holds nothing else.
  return 'invalid';
}

// kubectl decodes whole JSON numbers within int64 to int64 and everything else to float64.
const isInt = (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 63;

function goTypeName(v: Value): string {
  const k = kindOf(v);
  if (v instanceof GoByte) return 'uint8';
  return { bool: 'bool', int: 'int64', float: 'float64', string: 'string', map: 'map[string]interface {}', slice: '[]interface {}', nil: 'interface {}', invalid: 'invalid' }[k];
}

/** Go's fmt %v for the values JSON can hold. */
function goFmtV(v: Value): string {
  if (v instanceof GoFloat) return goFloat(v.value);
  if (v instanceof GoByte) return String(v.value);
  switch (kindOf(v)) {
    case 'nil':
      return '<nil>';
    case 'bool':
    case 'string':
      return String(v);
    case 'int':
      return BigInt(v as number).toString();
    case 'float':
      return goFloat(v as number);
    case 'slice':
      return `[${(v as Value[]).map(goFmtV).join(' ')}]`;
    case 'map': {
      const o = v as Record<string, Value>;
      return `map[${Object.keys(o)
        .sort()
        .map((k) => `${k}:${goFmtV(o[k])}`)
        .join(' ')}]`;
    }
    case 'invalid':
      return String(v);
  }
}

/** fmt.Sprint of a float64 (strconv %g, shortest digits): exponent form below 1e-4 and from 1e6. */
function goFloat(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expStr] = f.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(f);
}

/** Go's encoding/json.Marshal (MarshalIndent with an indent): sorted keys, <>& and U+2028/9 escaped. */
export function goJSON(v: Value, indent?: string): string {
  const sortKeys = (x: Value): Value => {
    if (x instanceof GoFloat || x instanceof GoByte) return x.value;
    if (Array.isArray(x)) return x.map(sortKeys);
    if (x && typeof x === 'object') {
      const o = x as Record<string, Value>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, sortKeys(o[k])]),
      );
    }
    return x;
  };
  return (JSON.stringify(sortKeys(v), null, indent) ?? 'null').replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function toText(v: Value): string {
  if (v === null || v === undefined) return 'null';
  return goFmtV(v);
}

/** Go's template comparison (third_party/forked/golang/template/funcs.go). */
function basicKind(v: Value): 'bool' | 'int' | 'float' | 'string' {
  const k = kindOf(v);
  if (k === 'bool' || k === 'int' || k === 'float' || k === 'string') return k;
  throw new JSONPathError('invalid type for comparison');
}
const num = (v: Value) => (v instanceof GoFloat || v instanceof GoByte ? v.value : (v as number));
function equal(a: Value, b: Value): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 !== k2) throw new JSONPathError('incompatible types for comparison');
  if (k1 === 'int' || k1 === 'float') return num(a) === num(b);
  return a === b;
}
function less(a: Value, b: Value): boolean {
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 !== k2) throw new JSONPathError('incompatible types for comparison');
  if (k1 === 'bool') throw new JSONPathError('invalid type for comparison');
  if (k1 === 'string') return compareBytes(a as string, b as string) < 0;
  return num(a) < num(b);
}
/** Go compares strings bytewise (UTF-8), JS by UTF-16 units; they differ above U+FFFF. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export interface ExecuteOptions {
  allowMissingKeys?: boolean;
  /** kubectl's -o jsonpath-as-json: each action's results as one indented JSON array. */
  json?: boolean;
}

export class JSONPath {
  private readonly root: ListNode;
  private beginRange = 0;
  private inRange = 0;
  private endRange = 0;
  private lastEndNode: Node | undefined;
  private allowMissingKeys = false;

  /** Parses the template; throws JSONPathError with client-go's message when it is invalid. */
  constructor(template: string) {
    this.root = new Parser().parse(template);
  }

  /** The parsed nodes in client-go's collectNode order (for the parser tests). */
  nodes(): Node[] {
    const out: Node[] = [];
    const collect = (n: Node) => {
      out.push(n);
      if (n.type === 'NodeList') n.nodes.forEach(collect);
      else if (n.type === 'NodeFilter') {
        collect(n.left);
        collect(n.right);
      } else if (n.type === 'NodeUnion') n.nodes.forEach(collect);
    };
    collect(this.root);
    return out.slice(1);
  }

  /** Returns the text kubectl would print; throws JSONPathError as client-go's Execute errs. */
  execute(data: Value, opts: ExecuteOptions = {}): string {
    this.allowMissingKeys = Boolean(opts.allowMissingKeys);
    this.beginRange = this.inRange = this.endRange = 0;
    this.lastEndNode = undefined;
    let out = '';
    for (const results of this.findResults(data, this.root.nodes)) out += opts.json ? goJSON(results, '    ') + '\n' : printResults(results);
    return out;
  }

  /** The values each action selects, per action (custom-columns and --sort-by use these). */
  findValues(data: Value, opts: ExecuteOptions = {}): Value[][] {
    this.allowMissingKeys = Boolean(opts.allowMissingKeys);
    this.beginRange = this.inRange = this.endRange = 0;
    return this.findResults(data, this.root.nodes);
  }

  private findResults(data: Value, nodes: Node[]): Value[][] {
    // Every top-level action starts again from the data, as in client-go.
    const cur: Value[] = [data];
    const fullResult: Value[][] = [];
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i];
      const results = this.walk(cur, node);
      if (this.endRange > 0 && this.endRange <= this.inRange) {
        this.endRange--;
        this.lastEndNode = node;
        break;
      }
      if (this.beginRange > 0) {
        this.beginRange--;
        this.inRange++;
        if (results.length > 0) {
          for (const value of results) fullResult.push(...this.findResults(value, nodes.slice(i + 1)));
        } else {
          this.findResults(null, nodes.slice(i + 1));
        }
        this.inRange--;
        for (let k = i + 1; k < nodes.length; k++) {
          if (nodes[k] === this.lastEndNode) {
            i = k;
            break;
          }
        }
        continue;
      }
      fullResult.push(results);
    }
    return fullResult;
  }

  private walk(value: Value[], node: Node): Value[] {
    switch (node.type) {
      case 'NodeList':
        return this.evalList(value, node);
      case 'NodeText':
        return [node.text];
      case 'NodeField':
        return this.evalField(value, node.value);
      case 'NodeArray':
        return this.evalArray(value, node.params);
      case 'NodeFilter':
        return this.evalFilter(value, node);
      case 'NodeInt':
        return value.map(() => node.value);
      case 'NodeFloat':
        return value.map(() => new GoFloat(node.value));
      case 'NodeBool':
        return value.map(() => node.value);
      case 'NodeWildcard':
        return this.evalWildcard(value);
      case 'NodeRecursive':
        return this.evalRecursive(value);
      case 'NodeUnion':
        return node.nodes.flatMap((l) => this.evalList(value, l));
      case 'NodeIdentifier':
        return this.evalIdentifier(value, node.name);
    }
  }

  private evalList(value: Value[], node: ListNode): Value[] {
    let cur = value;
    for (const n of node.nodes) cur = this.walk(cur, n);
    return cur;
  }

  private evalIdentifier(input: Value[], name: string): Value[] {
    if (name === 'range') {
      this.beginRange++;
      return input;
    }
    if (name === 'end') {
      if (this.inRange > 0) {
        this.endRange++;
        return [];
      }
      throw new JSONPathError('not in range, nothing to end');
    }
    throw new JSONPathError(`unrecognized identifier ${name}`);
  }

  private evalArray(input: Value[], paramsIn: [ParamsEntry, ParamsEntry, ParamsEntry]): Value[] {
    const result: Value[] = [];
    for (const value of input) {
      if (value === null || value === undefined) continue;
      if (!Array.isArray(value)) throw new JSONPathError(`${goTypeName(value)} is not array or slice`);
      // client-go mutates the parsed params; copying keeps repeated executions identical.
      const params = paramsIn.map((p) => ({ ...p }));
      const len = value.length;
      const [p0, p1, p2] = params as [ParamsEntry, ParamsEntry, ParamsEntry];
      if (!p0.known) p0.value = 0;
      if (p0.value < 0) p0.value += len;
      if (!p1.known) p1.value = len;
      if (p1.value < 0 || (p1.value === 0 && p1.derived)) p1.value += len;
      if (p1.value !== p0.value) {
        if (p0.value >= len || p0.value < 0) throw new JSONPathError(`array index out of bounds: index ${p0.value}, length ${len}`);
        if (p1.value > len || p1.value < 0) throw new JSONPathError(`array index out of bounds: index ${p1.value - 1}, length ${len}`);
        if (p0.value > p1.value) throw new JSONPathError(`starting index ${p0.value} is greater than ending index ${p1.value}`);
      } else return result;
      const slice = value.slice(p0.value, p1.value);
      let step = 1;
      if (p2.known) {
        if (p2.value <= 0) throw new JSONPathError('step must be > 0');
        step = p2.value;
      }
      for (let i = 0; i < slice.length; i += step) result.push(slice[i]);
    }
    return result;
  }

  private evalField(input: Value[], field: string): Value[] {
    const results: Value[] = [];
    if (input.length === 0) return results;
    for (const value of input) {
      if (value === null || value === undefined) continue;
      if (kindOf(value) === 'map' && Object.hasOwn(value, field)) results.push((value as Record<string, Value>)[field]);
    }
    if (results.length === 0) {
      if (this.allowMissingKeys) return results;
      throw new JSONPathError(`${field} is not found`);
    }
    return results;
  }

  private children(value: Value): Value[] {
    if (typeof value === 'string') return [...Buffer.from(value, 'utf8')].map((b) => new GoByte(b));
    if (Array.isArray(value)) return value;
    if (value && typeof value === 'object' && !(value instanceof GoFloat) && !(value instanceof GoByte)) return Object.values(value);
    return [];
  }

  // Maps are walked in the server's field order; Go walks them in random order.
  private evalWildcard(input: Value[]): Value[] {
    return input.flatMap((v) => (v === null || v === undefined ? [] : this.children(v)));
  }

  private evalRecursive(input: Value[]): Value[] {
    const result: Value[] = [];
    for (const value of input) {
      if (value === null || value === undefined) continue;
      const kids = this.children(value);
      if (kids.length) {
        result.push(value);
        result.push(...this.evalRecursive(kids));
      }
    }
    return result;
  }

  private evalFilter(input: Value[], node: Extract<Node, { type: 'NodeFilter' }>): Value[] {
    const results: Value[] = [];
    for (const value of input) {
      if (!Array.isArray(value)) throw new JSONPathError(`${goFmtV(value)} is not array or slice and cannot be filtered`);
      for (const item of value) {
        let lefts: Value[];
        let leftErr: Error | undefined;
        try {
          lefts = this.evalList([item], node.left);
        } catch (e) {
          lefts = [];
          leftErr = e as Error;
        }
        if (node.operator === 'exists') {
          if (lefts.length > 0) results.push(item);
          continue;
        }
        if (leftErr) throw leftErr;
        if (lefts.length === 0) continue;
        if (lefts.length > 1) throw new JSONPathError('can only compare one element at a time');
        const rights = this.evalList([item], node.right);
        if (rights.length === 0) continue;
        if (rights.length > 1) throw new JSONPathError('can only compare one element at a time');
        const left = lefts[0];
        const right = rights[0];
        let pass: boolean;
        switch (node.operator) {
          case '<':
            pass = less(left, right);
            break;
          case '>':
            pass = !(less(left, right) || equal(left, right));
            break;
          case '==':
            pass = equal(left, right);
            break;
          case '!=':
            pass = !equal(left, right);
            break;
          case '<=':
            pass = less(left, right) || equal(left, right);
            break;
          case '>=':
            pass = !less(left, right);
            break;
          default:
            throw new JSONPathError(`unrecognized filter operator ${node.operator}`);
        }
        if (pass) results.push(item);
      }
    }
    return results;
  }
}

function printResults(results: Value[]): string {
  return results.map((r) => (kindOf(r) === 'map' || kindOf(r) === 'slice' ? goJSON(r) : toText(r))).join(' ');
}

/** kubectl's text for one value (custom-columns cells use it too). */
export function valueText(v: Value): string {
  return kindOf(v) === 'map' || kindOf(v) === 'slice' ? goJSON(v) : toText(v);
}

/**
 * kubectl's RelaxedJSONPathExpression: `.a.b`, `a.b`, `{.a.b}` and `{a.b}` all mean `{.a.b}`
 * (custom-columns and --sort-by take it).
 */
export function relaxedJSONPath(path: string): string {
  if (path.length === 0) return path;
  const m = /^\{\.?([^{}]+)\}$|^\.?([^{}]+)$/.exec(path);
  if (!m) throw new JSONPathError(`unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'`);
  return `{.${m[1] ?? m[2]}}`;
}

/** A custom-columns cell value: Go's fmt.Sprint (maps as map[k:v], not JSON). */
export function cellText(v: Value): string {
  return goFmtV(v);
}
