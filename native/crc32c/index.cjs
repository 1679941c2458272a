// The compiled addon (build/Release/crc32c.node), or an error that
// src/base/checksum.ts catches to fall back to @node-rs/crc32.
'use strict';
module.exports = require('./build/Release/crc32c.node');
