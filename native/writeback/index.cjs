// The compiled addon (build/Release/writeback.node), or an error that
// src/disk/writeback.ts catches to start no writeback.
'use strict';
module.exports = require('./build/Release/writeback.node');
