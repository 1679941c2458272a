// The compiled addon (build/Release/md5.node), or an error that
// src/base/md5.ts catches to hash on the event loop.
'use strict';
module.exports = require('./build/Release/md5.node');
