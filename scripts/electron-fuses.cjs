// Electron fuses, written into the packaged executable at package time (electron-builder 25 has no
// `electronFuses` option, and @electron/fuses is not installed; the wire format is small and stable).
// The wire, after a 32-byte sentinel: a version byte (1), a length byte, then one ASCII state per fuse
// in this order: '1' enabled, '0' disabled, 'r' removed. Chromium builds can carry the wire twice; both
// copies are written.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');

const SENTINEL = Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX', 'latin1');
const FUSES = [
  'RunAsNode',
  'EnableCookieEncryption',
  'EnableNodeOptionsEnvironmentVariable',
  'EnableNodeCliInspectArguments',
  'EnableEmbeddedAsarIntegrityValidation',
  'OnlyLoadAppFromAsar',
  'LoadBrowserProcessSpecificV8Snapshot',
  'GrantFileProtocolExtraPrivileges',
  'WasmTrapHandlers',
];
const ENABLED = 0x31;
const DISABLED = 0x30;
const REMOVED = 0x72;

/**
 * What CTGI Studio sets. RunAsNode stays on for one reason: the CLIP encoder runs in a child process
 * started as `fork()` with ELECTRON_RUN_AS_NODE (src/main/ml/encoder.ts), which this fuse would turn
 * into a second copy of the app. Moving the encoder to Electron's utilityProcess would let it go off.
 */
const CTGI_FUSES = {
  RunAsNode: true,
  EnableCookieEncryption: true,
  EnableNodeOptionsEnvironmentVariable: false,
  EnableNodeCliInspectArguments: false,
  EnableEmbeddedAsarIntegrityValidation: true,
  OnlyLoadAppFromAsar: true,
  GrantFileProtocolExtraPrivileges: false,
};

function wirePositions(buf) {
  const positions = [];
  for (let at = buf.indexOf(SENTINEL); at !== -1; at = buf.indexOf(SENTINEL, at + 1)) {
    positions.push(at + SENTINEL.length);
  }
  if (positions.length === 0)
    throw new Error('no Electron fuse wire in this file: it is not an Electron (≥ 12) executable');
  return positions;
}

/** The fuses as the file holds them: name → 'enabled' | 'disabled' | 'removed' (first copy of the wire). */
function readFuses(file) {
  const buf = readFileSync(file);
  const at = wirePositions(buf)[0];
  if (buf[at] !== 1) throw new Error(`unknown fuse wire version ${buf[at]} in ${file}`);
  const states = {};
  for (let i = 0; i < buf[at + 1] && i < FUSES.length; i++) {
    const s = buf[at + 2 + i];
    states[FUSES[i]] =
      s === ENABLED
        ? 'enabled'
        : s === DISABLED
          ? 'disabled'
          : s === REMOVED
            ? 'removed'
            : `0x${s.toString(16)}`;
  }
  return states;
}

/** Writes `wanted` (name → on/off) into every copy of the wire; refuses a fuse the binary lacks. */
function writeFuses(file, wanted) {
  const buf = readFileSync(file);
  for (const at of wirePositions(buf)) {
    if (buf[at] !== 1) throw new Error(`unknown fuse wire version ${buf[at]} in ${file}`);
    const length = buf[at + 1];
    for (const [name, on] of Object.entries(wanted)) {
      const i = FUSES.indexOf(name);
      if (i === -1) throw new Error(`unknown fuse ${name}`);
      if (i >= length) throw new Error(`${file} has no ${name} fuse (its wire has ${length} fuses)`);
      if (buf[at + 2 + i] === REMOVED) throw new Error(`${name} is removed from ${file} and cannot be set`);
      buf[at + 2 + i] = on ? ENABLED : DISABLED;
    }
  }
  writeFileSync(file, buf);
  return readFuses(file);
}

module.exports = { CTGI_FUSES, FUSES, SENTINEL, readFuses, writeFuses };
