// drop-empty-subject-as: a ferry transform written in AssemblyScript, to show
// that the transform ABI (docs/transform-abi.md) is language-neutral. It
// implements the ABI directly, without an SDK, over the JSON v1 batch format.
//
// It drops tickets whose subject is missing, null, or only spaces, tabs and
// line breaks, with a reason ("the ticket has no subject" unless the config
// says otherwise: {"reason": "..."}); every other record, and every record of
// other streams, is kept byte for byte. Each batch that dropped tickets logs
// how many through ferry.log.
//
// Memory: inputs (ferry_alloc) and replies are unmanaged blocks from heap.alloc,
// given back with heap.free from ferry_free. Nothing here keeps a pointer into
// an input past the call that read it.

// ferry.log: a UTF-8 line to ferry's log. Levels are log/slog's.
@external("ferry", "log")
declare function hostLog(level: i32, ptr: usize, len: u32): void;

const ABI_VERSION: i32 = 1;
const FORMAT_JSON: u32 = 1;
const LEVEL_INFO: i32 = 0;

// ---------------------------------------------------------------- exports

export function ferry_abi_version(): i32 {
  return ABI_VERSION;
}

export function ferry_formats(): i32 {
  return FORMAT_JSON;
}

export function ferry_alloc(size: u32): usize {
  // heap.alloc never returns 0, as the ABI requires for a size above 0.
  return heap.alloc(<usize>max<u32>(size, 1));
}

export function ferry_free(ptr: usize, size: u32): void {
  if (ptr != 0) heap.free(ptr);
}

// The drop reason, as a JSON string with its quotes, ready to be copied into
// replies: the config's own bytes when it gives one, so escapes stay as they
// were written.
let reasonPtr: usize = 0;
let reasonLen: usize = 0;

export function ferry_configure(ptr: usize, len: u32): u64 {
  const end = ptr + len;
  let p = skipSpace(ptr, end);
  if (matches(p, end, "null") && skipSpace(p + 4, end) == end) {
    setDefaultReason();
    return 0;
  }
  if (p >= end || load<u8>(p) != 0x7b /* { */) {
    return errorMessage('the config must be an object such as {"reason": "no subject"}');
  }
  setDefaultReason();
  p++;
  while (true) {
    p = skipSpace(p, end);
    if (p < end && load<u8>(p) == 0x2c /* , */) p = skipSpace(p + 1, end);
    if (p >= end || load<u8>(p) != 0x22 /* " */) break;
    const nameStart = p;
    const nameEnd = stringEnd(p, end);
    p = skipSpace(nameEnd, end);
    if (p >= end || load<u8>(p) != 0x3a /* : */) break;
    const valueStart = skipSpace(p + 1, end);
    const valueEnd = valueEndAt(valueStart, end);
    p = valueEnd;
    if (!isName(nameStart, nameEnd, "reason")) {
      const msg = new Buf(64);
      msg.ascii("unknown config member ");
      msg.bytes(nameStart, nameEnd - nameStart);
      msg.ascii(': this transform takes only "reason"');
      return msg.take();
    }
    if (valueStart >= end || load<u8>(valueStart) != 0x22 || isBlankString(valueStart, valueEnd)) {
      return errorMessage('reason must be a string that is not empty, e.g. {"reason": "no subject"}');
    }
    heap.free(reasonPtr);
    reasonLen = valueEnd - valueStart;
    reasonPtr = heap.alloc(reasonLen);
    memory.copy(reasonPtr, valueStart, reasonLen);
  }
  return 0;
}

export function ferry_transform(format: u32, ptr: usize, len: u32): u64 {
  if (format != FORMAT_JSON) {
    return batchError("unsupported batch format (this module reads JSON v1, format 1)");
  }
  if (reasonPtr == 0) return batchError("ferry_transform before ferry_configure");
  const end = ptr + len;
  let p = skipSpace(ptr, end);
  if (p >= end || load<u8>(p) != 0x7b) return batchError("decode batch: not a JSON object");

  // Members may come in any order: find both before reading records.
  let streamStart: usize = 0, streamEnd: usize = 0;
  let recordsStart: usize = 0, recordsEnd: usize = 0;
  p++;
  while (true) {
    p = skipSpace(p, end);
    if (p < end && load<u8>(p) == 0x2c) p = skipSpace(p + 1, end);
    if (p >= end || load<u8>(p) != 0x22) break;
    const nameStart = p;
    const nameEnd = stringEnd(p, end);
    p = skipSpace(nameEnd, end);
    if (p >= end || load<u8>(p) != 0x3a) break;
    const valueStart = skipSpace(p + 1, end);
    const valueEnd = valueEndAt(valueStart, end);
    p = valueEnd;
    if (isName(nameStart, nameEnd, "stream")) {
      streamStart = valueStart;
      streamEnd = valueEnd;
    } else if (isName(nameStart, nameEnd, "records")) {
      recordsStart = valueStart;
      recordsEnd = valueEnd;
    }
  }
  if (recordsStart == 0 || load<u8>(recordsStart) != 0x5b /* [ */) {
    return batchError("decode batch: records is not an array");
  }
  const tickets = streamStart != 0 && isName(streamStart, streamEnd, "tickets");

  // Replies are about the size of the batch: records are copied as they are.
  const out = new Buf(<usize>len + 64);
  out.ascii('{"results":[');
  let count: u32 = 0, dropped: u32 = 0;
  p = recordsStart + 1;
  while (true) {
    p = skipSpace(p, recordsEnd);
    if (p < recordsEnd && load<u8>(p) == 0x2c) p = skipSpace(p + 1, recordsEnd);
    if (p >= recordsEnd || load<u8>(p) == 0x5d /* ] */) break;
    const recStart = p;
    // A stray byte is taken as a one-byte element, so that the scan moves on.
    const recEnd = max(valueEndAt(p, recordsEnd), p + 1);
    p = recEnd;
    if (count > 0) out.byte(0x2c);
    count++;
    if (load<u8>(recStart) != 0x7b) {
      out.ascii('{"error":"record is not a JSON object"}');
    } else if (tickets && !hasSubject(recStart, recEnd)) {
      dropped++;
      out.ascii('{"drop":');
      out.bytes(reasonPtr, reasonLen);
      out.byte(0x7d);
    } else {
      out.ascii('{"keep":');
      out.bytes(recStart, recEnd - recStart);
      out.byte(0x7d);
    }
  }
  out.ascii("]}");
  if (dropped > 0) {
    const msg = new Buf(64);
    msg.ascii("dropped ");
    msg.uint(dropped);
    msg.ascii(" of ");
    msg.uint(count);
    msg.ascii(" tickets without a subject");
    hostLog(LEVEL_INFO, msg.ptr, <u32>msg.len);
    msg.free();
  }
  return out.take();
}

// ---------------------------------------------------------------- records

// hasSubject reports whether the ticket object in [start, end) has a subject
// with something besides white space in it.
function hasSubject(start: usize, end: usize): bool {
  let p = start + 1;
  while (true) {
    p = skipSpace(p, end);
    if (p < end && load<u8>(p) == 0x2c) p = skipSpace(p + 1, end);
    if (p >= end || load<u8>(p) != 0x22) return false;
    const nameStart = p;
    const nameEnd = stringEnd(p, end);
    p = skipSpace(nameEnd, end);
    if (p >= end || load<u8>(p) != 0x3a) return false;
    const valueStart = skipSpace(p + 1, end);
    const valueEnd = valueEndAt(valueStart, end);
    p = valueEnd;
    if (isName(nameStart, nameEnd, "subject")) {
      // null, or a value of another type, is no subject.
      return valueStart < end && load<u8>(valueStart) == 0x22 && !isBlankString(valueStart, valueEnd);
    }
  }
}

// isBlankString reports whether the JSON string in [start, end), quotes
// included, holds only spaces, tabs and line breaks, written as themselves
// or escaped.
function isBlankString(start: usize, end: usize): bool {
  for (let p = start + 1; p + 1 < end; p++) {
    const c = load<u8>(p);
    if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) continue;
    if (c == 0x5c /* \ */ && p + 2 < end) {
      const e = load<u8>(p + 1);
      if (e == 0x6e /* n */ || e == 0x74 /* t */ || e == 0x72 /* r */) {
        p++;
        continue;
      }
    }
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- scanning
// The batch is well-formed JSON (the ABI promises it); these stay in bounds
// and make progress on anything, as host/transform checks the reply.

function skipSpace(p: usize, end: usize): usize {
  while (p < end) {
    const c = load<u8>(p);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
    p++;
  }
  return p;
}

// stringEnd returns the offset just past the string that starts at p.
function stringEnd(p: usize, end: usize): usize {
  for (let q = p + 1; q < end; q++) {
    const c = load<u8>(q);
    if (c == 0x5c) {
      q++;
    } else if (c == 0x22) {
      return q + 1;
    }
  }
  return end;
}

// valueEndAt returns the offset just past the value that starts at p.
function valueEndAt(p: usize, end: usize): usize {
  if (p >= end) return end;
  const c = load<u8>(p);
  if (c == 0x22) return stringEnd(p, end);
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    for (let q = p; q < end; q++) {
      const d = load<u8>(q);
      if (d == 0x22) {
        q = stringEnd(q, end) - 1;
      } else if (d == 0x7b || d == 0x5b) {
        depth++;
      } else if (d == 0x7d || d == 0x5d) {
        depth--;
        if (depth == 0) return q + 1;
      }
    }
    return end;
  }
  // a number, true, false or null
  let q = p;
  while (q < end) {
    const d = load<u8>(q);
    if (d == 0x2c || d == 0x7d || d == 0x5d || d == 0x20 || d == 0x09 || d == 0x0a || d == 0x0d) break;
    q++;
  }
  return q;
}

// isName reports whether the JSON string in [start, end), quotes included,
// is exactly the ASCII text s.
function isName(start: usize, end: usize, s: string): bool {
  const n = <usize>s.length;
  if (end - start != n + 2) return false;
  return matches(start + 1, end - 1, s);
}

// matches reports whether the bytes at p start with the ASCII text s.
function matches(p: usize, end: usize, s: string): bool {
  const n = <usize>s.length;
  if (end - p < n) return false;
  for (let i: usize = 0; i < n; i++) {
    if (<u32>load<u8>(p + i) != <u32>s.charCodeAt(<i32>i)) return false;
  }
  return true;
}

// ---------------------------------------------------------------- output

// Buf is a growing byte buffer in unmanaged memory, lent to the host by take.
class Buf {
  ptr: usize;
  len: usize = 0;
  cap: usize;

  constructor(cap: usize) {
    this.cap = max<usize>(cap, 16);
    this.ptr = heap.alloc(this.cap);
  }

  reserve(n: usize): void {
    if (this.len + n <= this.cap) return;
    this.cap = max<usize>(this.cap * 2, this.len + n);
    this.ptr = heap.realloc(this.ptr, this.cap);
  }

  byte(b: u8): void {
    this.reserve(1);
    store<u8>(this.ptr + this.len, b);
    this.len++;
  }

  bytes(src: usize, n: usize): void {
    this.reserve(n);
    memory.copy(this.ptr + this.len, src, n);
    this.len += n;
  }

  // ascii appends a string of ASCII characters (every text this module
  // writes itself is).
  ascii(s: string): void {
    const n = <usize>s.length;
    this.reserve(n);
    for (let i: usize = 0; i < n; i++) {
      store<u8>(this.ptr + this.len + i, <u8>s.charCodeAt(<i32>i));
    }
    this.len += n;
  }

  uint(v: u32): void {
    if (v >= 10) this.uint(v / 10);
    this.byte(<u8>(0x30 + v % 10));
  }

  // take hands the buffer to the host as the ABI's packed i64 (ptr << 32 |
  // len); the host gives it back with ferry_free once read.
  take(): u64 {
    return (<u64>this.ptr << 32) | <u64>this.len;
  }

  free(): void {
    heap.free(this.ptr);
  }
}

function setDefaultReason(): void {
  if (reasonPtr != 0) heap.free(reasonPtr);
  const b = new Buf(32);
  b.ascii('"the ticket has no subject"');
  reasonPtr = b.ptr;
  reasonLen = b.len;
}

function errorMessage(s: string): u64 {
  const b = new Buf(<usize>s.length);
  b.ascii(s);
  return b.take();
}

// batchError is the reply for a batch this module cannot read at all: ferry
// fails each of its records with the reason.
function batchError(reason: string): u64 {
  const b = new Buf(<usize>reason.length + 16);
  b.ascii('{"error":"');
  b.ascii(reason);
  b.ascii('"}');
  return b.take();
}

// abort is what a failed assertion or a runtime error calls (see asconfig.json):
// the default imports env.abort, which ferry does not provide. Trapping
// fails the batch, and ferry replaces the instance.
function abort(message: usize, fileName: usize, line: u32, column: u32): void {
  unreachable();
}
