/* etender-crypto.js: the sealed-bid format (docs/sealed-bid-format.md) in the browser, on WebCrypto only.
 *
 * HPKE (RFC 9180) base mode, single shot, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-GCM, built from
 * X25519 deriveBits, HMAC-SHA256 (LabeledExtract / LabeledExpand) and AES-GCM; key files under
 * PBKDF2-HMAC-SHA256 + AES-256-GCM; sealing a bid (k-of-n XOR parts, STREAM chunks) and unwrapping a
 * holder's parts. Private keys stay in this page's memory; nothing here talks to the server.
 * Plain script: in a page it defines window.EtenderCrypto; under Node (tests) module.exports. */
(function (root) {
  "use strict";
  const subtle = root.crypto.subtle;
  const enc = new TextEncoder();
  const dec = new TextDecoder();

  // ------------------------------------------------------------ bytes
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  function u16(n) { return new Uint8Array([(n >>> 8) & 255, n & 255]); }
  function u32(n) { return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]); }
  function readU32(b, at) { return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3]; }
  function hex(b) { return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""); }
  function unhex(s) {
    if (s.length % 2) throw new Error("odd hex length");
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
    return out;
  }
  function b64u(b) {
    let s = "";
    for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function unb64u(s) {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }
  function random(n) { return root.crypto.getRandomValues(new Uint8Array(n)); }
  function xor(a, b) { return a.map((x, i) => x ^ b[i]); }
  async function sha256(b) { return new Uint8Array(await subtle.digest("SHA-256", b)); }
  async function keyId(publicRaw) { return hex((await sha256(publicRaw)).subarray(0, 16)); }

  // ------------------------------------------------------------ HKDF with HPKE labels (RFC 9180 §4)
  async function hmac(key, data) {
    const k = await subtle.importKey("raw", key.length ? key : new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await subtle.sign("HMAC", k, data));
  }
  const HPKE_V1 = enc.encode("HPKE-v1");
  async function labeledExtract(suiteId, salt, label, ikm) {
    // An empty salt is HashLen zero bytes (RFC 5869), which HMAC treats exactly like an empty key.
    return hmac(salt, concat(HPKE_V1, suiteId, enc.encode(label), ikm));
  }
  async function labeledExpand(suiteId, prk, label, info, length) {
    const labeled = concat(u16(length), HPKE_V1, suiteId, enc.encode(label), info);
    let t = new Uint8Array(0);
    let out = new Uint8Array(0);
    for (let i = 1; out.length < length; i++) {
      t = await hmac(prk, concat(t, labeled, new Uint8Array([i])));
      out = concat(out, t);
    }
    return out.subarray(0, length);
  }

  // ------------------------------------------------------------ X25519
  async function importPublic(raw) { return subtle.importKey("raw", raw, { name: "X25519" }, true, []); }
  async function importPrivate(raw, publicRaw) {
    return subtle.importKey("jwk", { kty: "OKP", crv: "X25519", d: b64u(raw), x: b64u(publicRaw), ext: true },
      { name: "X25519" }, true, ["deriveBits"]);
  }
  async function generateKeyPair() {
    const pair = await subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
    const publicRaw = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
    const jwk = await subtle.exportKey("jwk", pair.privateKey);
    return { privateKey: pair.privateKey, privateRaw: unb64u(jwk.d), publicRaw };
  }
  async function dh(privateKey, publicRaw) {
    const out = new Uint8Array(await subtle.deriveBits({ name: "X25519", public: await importPublic(publicRaw) }, privateKey, 256));
    if (out.every((x) => x === 0)) throw new Error("the public key is a low-order point");
    return out;
  }

  // ------------------------------------------------------------ HPKE base mode, single shot
  const KEM_ID = 0x0020, KDF_ID = 0x0001;
  const KEM_SUITE = concat(enc.encode("KEM"), u16(KEM_ID));
  function hpkeSuite(aeadId) { return concat(enc.encode("HPKE"), u16(KEM_ID), u16(KDF_ID), u16(aeadId)); }

  async function keySchedule(sharedSecret, info, nk) {
    const aeadId = nk === 16 ? 0x0001 : 0x0002;
    const suite = hpkeSuite(aeadId);
    const empty = new Uint8Array(0);
    const pskIdHash = await labeledExtract(suite, empty, "psk_id_hash", empty);
    const infoHash = await labeledExtract(suite, empty, "info_hash", info);
    const context = concat(new Uint8Array([0]), pskIdHash, infoHash);
    const secret = await labeledExtract(suite, sharedSecret, "secret", empty);
    return {
      key: await labeledExpand(suite, secret, "key", context, nk),
      baseNonce: await labeledExpand(suite, secret, "base_nonce", context, 12),
    };
  }
  async function extractAndExpand(dhOut, kemContext) {
    const prk = await labeledExtract(KEM_SUITE, new Uint8Array(0), "eae_prk", dhOut);
    return labeledExpand(KEM_SUITE, prk, "shared_secret", kemContext, 32);
  }
  async function aesGcm(op, key, nonce, aad, data) {
    const k = await subtle.importKey("raw", key, "AES-GCM", false, [op]);
    const fn = op === "encrypt" ? subtle.encrypt : subtle.decrypt;
    return new Uint8Array(await fn.call(subtle, { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, k, data));
  }
  /* Seal to pkR; returns enc || ciphertext. `ephemeral` ({privateRaw, publicRaw}) only for test vectors; nk 32
   * (AES-256-GCM, the format's suite) or 16 (AES-128-GCM, RFC 9180 A.1's). */
  async function hpkeSeal(pkR, info, aad, plaintext, opts) {
    const nk = (opts && opts.nk) || 32;
    let eph;
    if (opts && opts.ephemeral) {
      eph = { privateKey: await importPrivate(opts.ephemeral.privateRaw, opts.ephemeral.publicRaw), publicRaw: opts.ephemeral.publicRaw };
    } else {
      eph = await generateKeyPair();
    }
    const shared = await extractAndExpand(await dh(eph.privateKey, pkR), concat(eph.publicRaw, pkR));
    const { key, baseNonce } = await keySchedule(shared, info, nk);
    return concat(eph.publicRaw, await aesGcm("encrypt", key, baseNonce, aad, plaintext));
  }
  async function hpkeOpen(privateKey, publicRaw, info, aad, sealed, opts) {
    const nk = (opts && opts.nk) || 32;
    const encapsulated = sealed.subarray(0, 32);
    const shared = await extractAndExpand(await dh(privateKey, encapsulated), concat(encapsulated, publicRaw));
    const { key, baseNonce } = await keySchedule(shared, info, nk);
    return aesGcm("decrypt", key, baseNonce, aad, sealed.subarray(32));
  }

  // ------------------------------------------------------------ key files (docs/sealed-bid-format.md §8)
  const ITERATIONS = 600000;
  async function passphraseKey(passphrase, salt, iterations) {
    const base = await subtle.importKey("raw", enc.encode(passphrase), "PBKDF2", false, ["deriveBits"]);
    return new Uint8Array(await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base, 256));
  }
  async function createKeyFile(passphrase, label) {
    if (!passphrase || passphrase.length < 8) throw new Error("passphrase_short");
    const pair = await generateKeyPair();
    const kid = await keyId(pair.publicRaw);
    const salt = random(16), nonce = random(12);
    const wrapKey = await passphraseKey(passphrase, salt, ITERATIONS);
    const ciphertext = await aesGcm("encrypt", wrapKey, nonce, enc.encode("etender-key-file/v1;key_id=" + kid), pair.privateRaw);
    const doc = {
      format: "etender-key-file", version: 1, algorithm: "X25519", key_id: kid, public_key: b64u(pair.publicRaw),
      label: label || "", created_at: new Date().toISOString(),
      kdf: { name: "PBKDF2-HMAC-SHA256", iterations: ITERATIONS, salt: b64u(salt) },
      cipher: { name: "AES-256-GCM", nonce: b64u(nonce), ciphertext: b64u(ciphertext) },
    };
    return { doc, privateKey: pair.privateKey, publicRaw: pair.publicRaw, keyId: kid };
  }
  async function loadKeyFile(doc, passphrase) {
    if (typeof doc === "string") doc = JSON.parse(doc);
    if (!doc || doc.format !== "etender-key-file" || doc.version !== 1 || doc.algorithm !== "X25519" || doc.kdf.iterations < ITERATIONS) {
      throw new Error("key_file_invalid");
    }
    const publicRaw = unb64u(doc.public_key);
    if ((await keyId(publicRaw)) !== doc.key_id) throw new Error("key_file_invalid");
    const wrapKey = await passphraseKey(passphrase, unb64u(doc.kdf.salt), doc.kdf.iterations);
    let raw;
    try {
      raw = await aesGcm("decrypt", wrapKey, unb64u(doc.cipher.nonce), enc.encode("etender-key-file/v1;key_id=" + doc.key_id), unb64u(doc.cipher.ciphertext));
    } catch (e) {
      throw new Error("passphrase_wrong");
    }
    const privateKey = await importPrivate(raw, publicRaw);
    return { privateKey, publicRaw, keyId: doc.key_id };
  }

  /* The proof a key holder gives before registering a public key: the saved key file opens with its passphrase
   * and holds the private key of `publicKey` (base64url). A value sealed to that public key with HPKE is opened
   * with the file's key, as the parts of the bids will be at the opening, so a file whose public_key field was
   * edited is caught too. Throws key_file_invalid, passphrase_wrong or key_file_other. */
  const CHECK_INFO = enc.encode("etender key file check v1");
  async function checkKeyFile(doc, passphrase, publicKey) {
    let key;
    try {
      key = await loadKeyFile(doc, passphrase);
    } catch (e) {
      throw new Error(e.message === "passphrase_wrong" ? "passphrase_wrong" : "key_file_invalid");
    }
    let expected;
    try { expected = unb64u(String(publicKey || "").trim()); } catch (e) { throw new Error("key_file_other"); }
    if (expected.length !== 32 || b64u(key.publicRaw) !== b64u(expected)) throw new Error("key_file_other");
    const probe = random(32);
    let opened;
    try {
      opened = await hpkeOpen(key.privateKey, expected, CHECK_INFO, new Uint8Array(0), await hpkeSeal(expected, CHECK_INFO, new Uint8Array(0), probe));
    } catch (e) {
      throw new Error("key_file_other");
    }
    if (hex(opened) !== hex(probe)) throw new Error("key_file_other");
    return key;
  }

  // ------------------------------------------------------------ the container's content rules (§6)
  /* The same checks, in the same order, as tender/bidcontent.py, on the figures it publishes (`rules`:
   * bidcontent.rules_data(), rendered into the seal page): the browser refuses exactly what the opening would
   * revoke. Returns {code: null, manifest, size} (the normalised manifest a sealer writes and its byte size) or
   * {code, params} for the first rule broken. A shared table of cases runs through both (tests/tender). */
  function checkContainer(manifest, rules) {
    const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
    const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
    const isInt = (v) => typeof v === "number" && Number.isInteger(v);
    const chars = (s) => Array.from(s); // code points, as Python counts them
    const forbidden = (s) => chars(s).some((ch) => {
      const o = ch.codePointAt(0);
      return o <= 0x1f || (o >= 0x7f && o <= 0x9f) || (o >= 0xd800 && o <= 0xdfff);
    });
    const trim = (s) => {
      let a = 0, b = s.length;
      while (a < b && rules.trimmed.includes(s[a])) a++;
      while (b > a && rules.trimmed.includes(s[b - 1])) b--;
      return s.slice(a, b);
    };
    const shown = (name) => (chars(name).length <= 80 ? name : chars(name).slice(0, 79).join("") + "\u2026");
    class Refused { constructor(code, params) { this.code = code; this.params = params || {}; } }
    const refuse = (code, params) => { throw new Refused(code, params); };
    const text = (form, name, limit, required, code) => {
      let value = has(form, name) ? form[name] : (required ? null : "");
      if (typeof value !== "string") refuse(code, { limit });
      value = trim(value);
      if ((required && !value) || chars(value).length > limit || forbidden(value)) refuse(code, { limit });
      return value;
    };
    try {
      if (!isObject(manifest)) refuse("container_manifest_json");
      if (manifest.format !== rules.format || !isInt(manifest.version) || manifest.version !== rules.version) {
        refuse("container_format");
      }
      if (!has(manifest, "price_form")) refuse("container_price_form");
      const form = manifest.price_form;
      if (!isObject(form)) refuse("container_price_form");
      const price = has(form, "total_price_fen") ? form.total_price_fen : null;
      if (!isInt(price) || !(price > 0 && price <= rules.max_price_fen)) refuse("container_price", { limit: rules.max_price_fen });
      const duration = has(form, "duration_days") ? form.duration_days : null;
      if (!isInt(duration) || !(duration > 0 && duration <= rules.max_duration_days)) {
        refuse("container_duration", { limit: rules.max_duration_days });
      }
      const priceForm = {
        total_price_fen: price, duration_days: duration,
        quality_commitment: text(form, "quality_commitment", rules.max_quality_chars, true, "container_quality"),
        bid_security_reference: text(form, "bid_security_reference", rules.max_security_chars, false, "container_security"),
      };
      if (Object.keys(form).some((k) => !rules.price_form_fields.includes(k))) refuse("container_price_form");
      const files = has(manifest, "files") ? manifest.files : null;
      if (!Array.isArray(files)) refuse("container_files");
      const mediaType = new RegExp(rules.media_type);
      const seen = new Set();
      const out = [];
      files.forEach((entry, i) => {
        const n = i + 1;
        if (!isObject(entry)) refuse("container_files");
        if (!rules.file_roles.includes(entry.role)) refuse("container_file_role", { n });
        const name = has(entry, "name") ? entry.name : null;
        if (typeof name !== "string" || !name) refuse("container_file_name_empty", { n });
        if (name === "." || name === "..") refuse("container_file_name_dot", { n });
        if (name.includes("/") || name.includes("\\")) refuse("container_file_name_separator", { name: shown(name) });
        if (forbidden(name)) refuse("container_file_name_control", { n });
        if (chars(name).length > rules.max_name_chars) refuse("container_file_name_long", { name: shown(name), limit: rules.max_name_chars });
        const media = has(entry, "media_type") ? entry.media_type : null;
        if (typeof media !== "string" || !mediaType.test(media)) refuse("container_media_type", { name: shown(name) });
        const size = has(entry, "size") ? entry.size : null;
        if (!isInt(size) || !(size >= 0 && size <= rules.max_file_size)) refuse("container_file_size", { name: shown(name) });
        if (seen.has(name)) refuse("container_file_name_duplicate", { name: shown(name) });
        seen.add(name);
        out.push({ role: entry.role, name, media_type: media, size });
      });
      const normalised = { format: rules.format, version: rules.version, price_form: priceForm, files: out };
      const size = enc.encode(JSON.stringify(normalised)).length;
      if (!(size >= 2 && size <= rules.max_manifest_size)) refuse("container_manifest_size", { size, limit: rules.max_manifest_size });
      return { code: null, manifest: normalised, size };
    } catch (e) {
      if (e instanceof Refused) return { code: e.code, params: e.params };
      throw e;
    }
  }

  // ------------------------------------------------------------ sealing (docs/sealed-bid-format.md §2-§6)
  const SUITE_NAME = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM";
  function subsets(n, k) {
    const out = [];
    (function walk(start, acc) {
      if (acc.length === k) { out.push(acc.slice()); return; }
      for (let i = start; i < n; i++) { acc.push(i); walk(i + 1, acc); acc.pop(); }
    })(0, []);
    return out;
  }
  function partInfo(tenderId, lotId, bidId, subset, position, parties, recipient) {
    return enc.encode(`etender-sealed-bid/v1;tender=${tenderId};lot=${lotId};bid=${bidId};subset=${subset.join(",")};` +
      `position=${position};of=${parties};recipient=${recipient}`);
  }
  const COMMIT = concat(enc.encode("etender-sealed-bid/v1 part commitment"), new Uint8Array([0]));
  const KEYCHECK = concat(enc.encode("etender-sealed-bid/v1 data key check"), new Uint8Array([0]));
  function chunkNonce(prefix, i, last) { return concat(prefix, u32(i), new Uint8Array([last ? 1 : 0])); }

  /* bundleDoc: the published bundle (signed document or bare bundle); files: [{role, name, mediaType, data: Uint8Array}];
   * opts.rules: the content rules (bidcontent.rules_data()); returns {header, parts: [Uint8Array...]} whose
   * concatenation is the .sealed file. A content rule broken throws an Error whose `code` and `params` name it. */
  async function sealBid(bundleDoc, lotId, files, priceForm, opts) {
    const bundle = bundleDoc.bundle || bundleDoc;
    if (bundle.format !== "etender-key-bundle" || bundle.version !== 1) throw new Error("not an etender key bundle");
    if (!bundle.lots.includes(lotId)) throw new Error("lot " + lotId + " is not a lot of this tender");
    const chunkSize = (opts && opts.chunkSize) || 65536;
    const bidderPublic = opts && opts.bidderPublicKey;
    if ((bundle.policy === "quorum+bidder") !== Boolean(bidderPublic)) throw new Error("bidder_key_needed");
    const holders = bundle.holders.map((h) => ({ keyId: h.key_id, publicRaw: unb64u(h.public_key) }));
    for (const h of holders) if ((await keyId(h.publicRaw)) !== h.keyId) throw new Error("the bundle's key ids do not match its keys");
    if (!opts || !opts.rules) throw new Error("content_rules_missing");
    // the content rules first: a bid the opening would revoke is never sealed (docs/sealed-bid-format.md §6)
    const checked = checkContainer({
      format: "etender-bid-container", version: 1, price_form: priceForm,
      files: files.map((f) => ({ role: f.role, name: f.name, media_type: f.mediaType || "application/octet-stream", size: f.data.length })),
    }, opts.rules);
    if (checked.code) {
      const error = new Error(checked.code);
      error.code = checked.code;
      error.params = checked.params;
      throw error;
    }
    const manifest = enc.encode(JSON.stringify(checked.manifest));
    const plaintextSize = 4 + manifest.length + files.reduce((n, f) => n + f.data.length, 0);
    const dataKey = random(32), bidId = hex(random(16)), prefix = random(7);
    const parts = [];
    const bidderId = bidderPublic ? await keyId(bidderPublic) : null;
    for (const subset of subsets(holders.length, bundle.k)) {
      const recipients = subset.map((i) => holders[i]);
      if (bidderPublic) recipients.push({ keyId: bidderId, publicRaw: bidderPublic });
      const shares = recipients.slice(0, -1).map(() => random(32));
      shares.push(shares.reduce((acc, p) => xor(acc, p), dataKey));
      const wrapped = [], commitments = [];
      for (let p = 0; p < recipients.length; p++) {
        const info = partInfo(bundle.tender_id, lotId, bidId, subset, p, recipients.length, recipients[p].keyId);
        wrapped.push(b64u(await hpkeSeal(recipients[p].publicRaw, info, new Uint8Array(0), shares[p])));
        commitments.push(hex(await sha256(concat(COMMIT, info, shares[p]))));
      }
      parts.push({ subset, wrapped, commitments });
    }
    const header = {
      format: "etender-sealed-bid", version: 1, hpke: SUITE_NAME, tender_id: bundle.tender_id, lot_id: lotId, bid_id: bidId,
      k: bundle.k, policy: bundle.policy, holders: holders.map((h) => h.keyId),
      bidder_key: bidderPublic ? { key_id: bidderId, public_key: b64u(bidderPublic) } : null,
      parts, key_check: hex(await sha256(concat(KEYCHECK, dataKey))),
      chunk_size: chunkSize, nonce_prefix: hex(prefix), plaintext_size: plaintextSize,
    };
    const body = enc.encode(JSON.stringify(header));
    const preamble = concat(enc.encode("ETSEALED"), u16(1), u32(body.length), body);
    const aad = await sha256(preamble);
    const out = [preamble];
    const total = Math.max(1, Math.ceil(plaintextSize / chunkSize));
    const aesKey = await subtle.importKey("raw", dataKey, "AES-GCM", false, ["encrypt"]);
    // The plaintext is u32(len) || manifest || files, cut into chunkSize pieces without copying it whole.
    const segments = [u32(manifest.length), manifest, ...files.map((f) => f.data)];
    let seg = 0, off = 0;
    for (let i = 0; i < total; i++) {
      const size = i === total - 1 ? plaintextSize - i * chunkSize : chunkSize;
      const chunk = new Uint8Array(size);
      let filled = 0;
      while (filled < size) {
        const s = segments[seg];
        const take = Math.min(size - filled, s.length - off);
        chunk.set(s.subarray(off, off + take), filled);
        filled += take; off += take;
        if (off === s.length) { seg++; off = 0; }
      }
      const nonce = chunkNonce(prefix, i, i === total - 1);
      out.push(new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, aesKey, chunk)));
      if (opts && opts.onProgress) opts.onProgress((i + 1) / total);
    }
    return { header, parts: out, bidId };
  }

  function readHeader(bytes) {
    if (dec.decode(bytes.subarray(0, 8)) !== "ETSEALED") throw new Error("sealed_not_sealed");
    const length = readU32(bytes, 10);
    return JSON.parse(dec.decode(bytes.subarray(14, 14 + length)));
  }

  /* A holder's (or bidder's) parts of a sealed bid, each checked against its commitment: the JSON that
   * `etender keys unwrap` writes and the opening ceremony accepts. `sealed` needs only the header's bytes.
   * `bid`: the platform's bid id from the headers document, which the opening credits the parts to (the
   * header's bid_id is the bidder's and several bids may carry the same one). */
  async function unwrapParts(sealed, key, bid) {
    const header = readHeader(sealed);
    const result = [];
    header.parts.forEach((entry, s) => {
      entry.wrapped.forEach((w, p) => {
        const party = p < entry.subset.length ? entry.subset[p] : null;
        const recipient = party === null ? header.bidder_key.key_id : header.holders[party];
        if (recipient === key.keyId) result.push({ s, p, w, recipient, parties: entry.wrapped.length, subset: entry.subset, commitment: entry.commitments[p] });
      });
    });
    if (!result.length) throw new Error("key_not_in_bid");
    const parts = [];
    for (const slot of result) {
      const info = partInfo(header.tender_id, header.lot_id, header.bid_id, slot.subset, slot.p, slot.parties, slot.recipient);
      const part = await hpkeOpen(key.privateKey, key.publicRaw, info, new Uint8Array(0), unb64u(slot.w));
      if (hex(await sha256(concat(COMMIT, info, part))) !== slot.commitment) throw new Error("part_commitment_mismatch");
      parts.push({ subset_index: slot.s, position: slot.p, part: b64u(part) });
    }
    const doc = { format: "etender-key-parts", version: 1, tender_id: header.tender_id, lot_id: header.lot_id, bid_id: header.bid_id, key_id: key.keyId, parts };
    if (Number.isInteger(bid)) doc.bid = bid;
    return doc;
  }

  const api = {
    concat, hex, unhex, b64u, unb64u, sha256, keyId, generateKeyPair, importPrivate,
    labeledExtract, labeledExpand, hpkeSeal, hpkeOpen, createKeyFile, loadKeyFile, checkKeyFile, checkContainer, sealBid, readHeader, unwrapParts, subsets,
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.EtenderCrypto = api;
})(typeof window !== "undefined" ? window : globalThis);
