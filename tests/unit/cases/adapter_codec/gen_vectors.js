// Run from a scratch folder with: npm i @socket.io/redis-emitter@5.1.0 notepack.io@3.0.1 socket.io-parser@4.2.7
// then `node gen_vectors.js > vectors.inc`; the output is pasted into test_adapter_codec.c.
// Generates C test vectors for tests/unit/proto/test_adapter_codec.c from the REAL
// @socket.io/redis-emitter 5.1.0, notepack.io 3.0.1 and socket.io-parser 4.2.7.
const { Emitter } = require('@socket.io/redis-emitter');
const notepack = require('notepack.io');
const { Encoder, Decoder } = require('socket.io-parser');

const published = [];
const fake = { publish(ch, msg) { published.push([ch, Buffer.from(msg)]); } };
const em = new Emitter(fake);

function cstr(s) { // C string literal, escaping non-printables
  let o = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b === 0x22 || b === 0x5c) o += '\\' + String.fromCharCode(b);
    else if (b >= 0x20 && b < 0x7f) o += String.fromCharCode(b);
    else o += '\\' + b.toString(8).padStart(3, '0');
  }
  return o + '"';
}
function chex(buf, indent) {
  const h = buf.toString('hex'); const parts = [];
  for (let i = 0; i < h.length; i += 88) parts.push(h.slice(i, i + 88));
  if (parts.length === 0) parts.push('');
  return parts.map(p => '"' + p + '"').join('\n' + indent);
}
// What a Node server sends to its clients for this message: JSON text of data
// (after deconstructPacket) and the attachments.
function expected(buf) {
  const [uid, packet, opts] = notepack.decode(buf);
  const enc = new Encoder();
  const parts = enc.encode({ type: packet.type, data: packet.data, nsp: packet.nsp === undefined ? '/' : packet.nsp });
  const m = /^\d(\d+-)?(\/[^,]*,)?/.exec(parts[0]);
  const json = parts[0].slice(m[0].length);
  const atts = parts.slice(1).map(b => Buffer.from(b).toString('hex'));
  const fl = (opts && opts.flags) || {};
  const roomsOf = r => (r === undefined || r === null) ? [] : (typeof r === 'string' ? [r] : Array.isArray(r) ? r.map(String) : Object.values(r).map(String));
  return { uid: uid === undefined || uid === null ? '' : String(uid), nsp: packet.nsp === undefined ? '/' : packet.nsp, type: packet.type, json, atts,
    rooms: roomsOf(opts && opts.rooms), except: roomsOf(opts && opts.except),
    vol: !!fl.volatile, comp: fl.compress === undefined ? true : !!fl.compress,
    timeout: typeof fl.timeout === 'number' ? fl.timeout : -1 };
}
function decvec(name, comment, channel, buf, over) {
  const e = expected(buf);
  let note = '';
  if (over) { note = ' Node: ' + e.json + (e.atts.length ? ' atts ' + e.atts.join('|') : '') + '; ' + over.why; Object.assign(e, over); }
  const I = '\t  ';
  return `\t{ ${cstr(name)}, /* ${comment}${note.replace(/\*\//g, '* /')} */\n${I}${cstr(channel)}, ${cstr(e.uid)}, ${cstr(e.nsp)}, ${e.type},\n` +
    `${I}${chex(buf, I)},\n${I}${cstr(e.json)},\n${I}${cstr(e.atts.join('|'))}, ${cstr(e.rooms.join('|'))}, ${cstr(e.except.join('|'))}, ` +
    `${e.vol}, ${e.comp}, ${e.timeout} },\n`;
}

let out = '/* generated: emitter vectors */\nstatic const struct dec_vec emitter_vecs[] = {\n';
function em1(name, js, fn, over) {
  published.length = 0; fn();
  const [ch, msg] = published[0];
  out += decvec(name, js, ch, msg, over);
}
em1('io.emit', 'emitter.emit("hello", 1, "two", {three: 3})', () => em.emit('hello', 1, 'two', { three: 3 }));
em1('to room', 'emitter.to("room1").emit("ev", "a")', () => em.to('room1').emit('ev', 'a'));
em1('to two rooms', 'emitter.to(["room1", "room2"]).emit("ev", 1)', () => em.to(['room1', 'room2']).emit('ev', 1));
em1('except', 'emitter.except("room2").emit("ev")', () => em.except('room2').emit('ev'));
em1('room and except', 'emitter.to("r").except(["x", "y"]).emit("ev", true, null, false)', () => em.to('r').except(['x', 'y']).emit('ev', true, null, false));
em1('binary nested', 'emitter.emit("bin", Buffer.from([1,2,3]), {x: {y: Buffer.from("deadbeef", "hex")}, list: [Buffer.alloc(0), 7]}, new Uint8Array([9, 8]))',
  () => em.emit('bin', Buffer.from([1, 2, 3]), { x: { y: Buffer.from('deadbeef', 'hex') }, list: [Buffer.alloc(0), 7] }, new Uint8Array([9, 8])));
em1('floats', 'emitter.emit("f", 0.1, 1.5, -2.25, 1e21, 1e-7, NaN, Infinity, -Infinity, 3.0, 1/3, -0, 5e-324, 1.7976931348623157e308, 123456789012345680000, 1.5e-7, 2**64, 1e300)',
  () => em.emit('f', 0.1, 1.5, -2.25, 1e21, 1e-7, NaN, Infinity, -Infinity, 3.0, 1 / 3, -0, 5e-324, 1.7976931348623157e308, 123456789012345680000, 1.5e-7, 2 ** 64, 1e300),
  { why: 'notepack wraps integral doubles >= 2^64 into uint64 (1e21 -> 3875820019684212736); siogate prints uint64 exactly where Node rounds',
    json: '["f",0.1,1.5,-2.25,3875820019684212736,1e-7,null,null,null,3,0.3333333333333333,0,5e-324,0,12776324570088374272,1.5e-7,0,0]' });
em1('ints', 'emitter.emit("ints", 0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2**53, -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -(2**53))',
  () => em.emit('ints', 0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2 ** 53, -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -(2 ** 53)));
em1('unicode', 'emitter.emit("uni", "h\\u00e9llo", "\\u65e5\\u672c\\u8a9e", "\\ud83d\\ude00", "\\0\\u001f\\"\\\\\\n\\t\\b\\f\\r\\u007f\\u2028", "x".repeat(31), "\\u00e9".repeat(16), "a".repeat(255), "b".repeat(256), "\\u00e9".repeat(40))',
  () => em.emit('uni', 'h\u00e9llo', '\u65e5\u672c\u8a9e', '\ud83d\ude00', '\0\u001f"\\\n\t\b\f\r\u007f\u2028', 'x'.repeat(31), '\u00e9'.repeat(16), 'a'.repeat(255), 'b'.repeat(256), '\u00e9'.repeat(40)));
em1('nested objects', 'emitter.emit("obj", {b: 1, 2: "two", 1: "one", a: [1, {c: {d: [null, [], {}]}}], "": "empty", "01": "zero-one", "4294967295": "not-index", "4294967294": "max-index"}, [[[["deep"]]]])',
  () => em.emit('obj', { b: 1, 2: 'two', 1: 'one', a: [1, { c: { d: [null, [], {}] } }], '': 'empty', '01': 'zero-one', '4294967295': 'not-index', '4294967294': 'max-index' }, [[[['deep']]]]));
em1('dates', 'emitter.emit("date", new Date(Date.UTC(2026,0,2,3,4,5,678)), new Date(0), new Date(5000), new Date(-1), new Date(8.64e15), new Date(-8.64e15), new Date(253402300800000), new Date(-62198755200000), new Date(1e12 + 0.5))',
  () => em.emit('date', new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), new Date(0), new Date(5000), new Date(-1), new Date(8.64e15), new Date(-8.64e15), new Date(253402300800000), new Date(-62198755200000), new Date(1e12 + 0.5)));
em1('volatile compress', 'emitter.to("r").volatile.compress(false).emit("v", 1)', () => em.to('r').volatile.compress(false).emit('v', 1));
em1('compress true', 'emitter.compress(true).emit("c")', () => em.compress(true).emit('c'));
em1('of custom', 'emitter.of("/custom").to("room1").emit("c", "x")', () => em.of('/custom').to('room1').emit('c', 'x'));
em1('of without slash', 'emitter.of("admin").emit("c")', () => em.of('admin').emit('c'));
em1('big containers', 'emitter.emit("big", [0..19], {k0: 0, ..., k19: 19})', () => {
  const o = {}; for (let i = 0; i < 20; i++) o['k' + i] = i;
  em.emit('big', Array.from({ length: 20 }, (_, i) => i), o);
});
out += '};\n\n';

// Hand-crafted byte sequences (forms and shapes other publishers use).
const H = s => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const S = s => { const b = Buffer.from(s, 'utf8'); if (b.length >= 32) throw new Error(s); return Buffer.concat([Buffer.from([0xa0 | b.length]), b]); };
const SB = b => Buffer.concat([Buffer.from([0xa0 | b.length]), b]);
const A = (...xs) => Buffer.concat([Buffer.from([0x90 | xs.length]), ...xs]);
const M = (...xs) => Buffer.concat([Buffer.from([0x80 | xs.length / 2]), ...xs]);
const I = n => notepack.encode(n);
const std = (data, opts) => A(S('srv123'), M(S('type'), I(2), S('data'), data, S('nsp'), S('/')), opts || M(S('rooms'), A(), S('except'), A(), S('flags'), M()));
out += '/* generated: hand-crafted vectors, expectations from notepack.decode + socket.io-parser */\nstatic const struct dec_vec crafted_vecs[] = {\n';
function cr(name, comment, buf, over) { out += decvec(name, comment, '', buf, over); }
cr('key order', 'keys b 2 1 b(dup) __proto__ a u(undefined) 10 01 4294967295 4294967294',
  std(A(S('ev'), M(S('b'), I(1), S('2'), I(2), S('1'), I(3), S('b'), I(4), S('__proto__'), M(S('x'), I(1)), S('a'), H('c0'), S('u'), H('d40000'),
    S('10'), I(10), S('01'), I(0), S('4294967295'), I(1), S('4294967294'), I(2)))));
cr('non-string keys', 'map keys 1, nil, true, 1.5, 0.25f, bin "hi", -32, 1e21, undefined, NaN, -Infinity',
  std(A(S('ev'), M(I(1), S('int'), H('c0'), S('nil'), H('c3'), S('true'), H('cb3ff8000000000000'), S('float'), H('ca3e800000'), S('f32'),
    H('c4026869'), S('bin'), H('e0'), S('neg'), H('cb444b1ae4d6e2ef50'), S('big'), H('d40000'), S('undef'), H('cb7ff8000000000000'), S('nan'), H('cbfff0000000000000'), S('minf')))));
cr('undefined and ext', 'undefined in array/map, ext 5, ArrayBuffer ext 0, timestamps 32/64/96, notepack date ext 0, fixext16',
  std(A(S('ev'), H('d40000'), M(S('a'), H('d40000'), S('b'), I(1)), H('d505abcd'), H('c70300010203'), H('d6ff5f5e1000'),
    H('d7ff' + ((678000000 * 4) >>> 0).toString(16).padStart(8, '0') + '695733e5'), H('c70cff' + '1dcd6500' + 'ffffffff' + 'ffffffff'),
    H('d700000000e8d4a51000'), H('d807' + '00112233445566778899aabbccddeeff'), H('d7ff' + 'fffffffc' + '00000000'), H('c70cff00000000' + '7fffffff' + 'ffffffff'))));
cr('number forms', 'int8 5, int16 -128, uint16 1, float32 0.1, float32 NaN, float64 -0, int64 -1, uint64 2^53-1, int32 -2^31, float32 3.0',
  std(A(S('ev'), H('d005'), H('d1ff80'), H('cd0001'), H('ca3dcccccd'), H('ca7fc00000'), H('cb8000000000000000'), H('d3ffffffffffffffff'), H('cf001fffffffffffff'), H('d280000000'), H('ca40400000'))));
cr('string forms', 'str8 event, str16, str32, invalid UTF-8 variants',
  std(A(H('d9026576'), H('da0003616263'), H('db000000026869'), SB(H('626164ffc328')), SB(H('e282')), SB(H('eda080')), SB(H('f4908080')),
    SB(H('c0af')), SB(H('61f09f98')), SB(H('e0809f')), SB(H('f0808080')), SB(H('efbfbd')), SB(H('c2')), SB(H('f09f9880')), SB(H('00'))) ));
cr('php', 'PHP emitter: no except, flags an empty array 90, numeric rooms',
  A(S('emitter'), M(S('type'), I(2), S('data'), A(S('ev'), S('x')), S('nsp'), S('/')), M(S('rooms'), A(I(123), S('r2'), H('cb3ff8000000000000'), H('ff')), S('flags'), H('90'))));
cr('php flags', 'PHP emitter legacy flags map {json, volatile, broadcast}',
  A(S('emitter'), M(S('type'), I(2), S('data'), A(S('ev')), S('nsp'), S('/')), M(S('rooms'), A(), S('flags'), M(S('json'), H('c3'), S('volatile'), H('c3'), S('broadcast'), H('c3')))));
cr('key order varies', 'packet keys nsp,data,type; opts keys flags,except,rooms; timeout flag; type 5',
  A(S('abcdef'), M(S('nsp'), S('/chat'), S('data'), A(S('ev'), H('c4020102')), S('type'), I(5)),
    M(S('flags'), M(S('timeout'), I(1000), S('local'), H('c2')), S('except'), A(S('e1')), S('rooms'), A(S('a'), S('b')))),
  { why: 'Node mangles a type-5 packet; siogate decodes it like type 2', json: '["ev",{"_placeholder":true,"num":0}]', atts: ['0102'] });
cr('missing nsp nil uid', 'uid nil, packet without nsp, opts rooms as a PHP map {0:"a", 2:"b"}',
  A(H('c0'), M(S('type'), I(2), S('data'), A(S('ev'), H('c3'))), M(S('rooms'), M(I(0), S('a'), I(2), S('b')))));
out += '};\n\n';

// Encoder vectors: what a Node server publishes when it relays a client's event
// whose data JSON (with placeholders) and attachments are given.
out += '/* generated: encoder vectors: notepack.encode([uid, {type, data: reconstructed JSON.parse(data_json), nsp}, {rooms, except, flags}]) */\nstatic const struct enc_vec enc_vecs[] = {\n';
function envec(name, uid, nsp, type, dataJson, atts, rooms, except, vol, comp, exactJson) {
  const buffers = atts.map(h => Buffer.from(h, 'hex'));
  const dec = new Decoder();
  // reconstruct exactly as socket.io-parser does for a received binary event
  const { reconstructPacket } = require('./node_modules/socket.io-parser/build/cjs/binary.js');
  const pkt = reconstructPacket({ type: 2, nsp, data: JSON.parse(dataJson) }, buffers);
  const flags = {}; if (vol) flags.volatile = true; if (comp >= 0) flags.compress = !!comp;
  const msg = notepack.encode([uid, { type, data: pkt.data, nsp }, { rooms: [...new Set(rooms)], except: [...new Set(except)], flags }]);
  const e = expected(msg);
  const I2 = '\t  ';
  out += `\t{ ${cstr(name)}, ${cstr(uid)}, ${cstr(nsp)}, ${type},\n${I2}${cstr(dataJson)},\n${I2}${cstr(atts.join('|'))}, ${cstr(rooms.join('|'))}, ${cstr(except.join('|'))}, ${vol}, ${comp},\n` +
    `${I2}${chex(msg, I2)},\n${I2}${cstr(exactJson || e.json)}, ${cstr(e.atts.join('|'))} },${exactJson ? ' /* Node: ' + e.json + ' */' : ''}\n`;
}
envec('protocol 3.2', 'mx5EU-', '/', 2, '["hello",1,"two",{"three":3}]', [], [], [], false, -1);
envec('binary and flags', 'abc123', '/custom', 2,
  '["bin",{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":1},"n":1.5,"big":1099511627776,"neg":-200,"s":"' + '\u00e9'.repeat(20) + '"},[{"num":0,"_placeholder":true}]]',
  ['010203', 'ab'.repeat(300)], ['room1'], ['s1', 's2', 's1'], true, 0);
envec('numbers and strings', 'srv001', '/', 2,
  '["n",0,127,128,255,256,65535,65536,4294967295,4294967296,9007199254740992,-1,-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649,0.1,-2.5,1e2,1.0,-0,1E-7,1e19,1.5e-300,-1e-5,' +
  '"' + 'x'.repeat(31) + '","' + 'y'.repeat(32) + '","' + 'z'.repeat(255) + '","' + 'w'.repeat(256) + '","\\u00e9\\ud83d\\ude00\\n\\"\\/",true,false,null,' +
  '[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14],[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15],' +
  '{"a0":0,"a1":1,"a2":2,"a3":3,"a4":4,"a5":5,"a6":6,"a7":7,"a8":8,"a9":9,"b0":0,"b1":1,"b2":2,"b3":3,"b4":4},' +
  '{"a0":0,"a1":1,"a2":2,"a3":3,"a4":4,"a5":5,"a6":6,"a7":7,"a8":8,"a9":9,"b0":0,"b1":1,"b2":2,"b3":3,"b4":4,"b5":5}]',
  [], ['a', 'b'], [], false, 1);
envec('key order and duplicates', 'srv002', '/', 2,
  ' [ "ev" , {"b":1,"2":2,"1":1,"b":3,"__proto__":{"x":1},"01":4,"":5} , [ ] , { } ] ', [], ['a', 'a'], ['x'], true, -1);
envec('int64 extremes', 'srv004', '/', 2, '["x",-9223372036854775808,18446744073709549568,-9007199254740992]', [], [], [], false, -1,
  '["x",-9223372036854775808,18446744073709549568,-9007199254740992]');
envec('ack type', 'srv003', '/', 3, '[{"ok":true}]', [], ['sid0000000000000000A'], [], false, -1);
out += '};\n';
process.stdout.write(out);
