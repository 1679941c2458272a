{
  "targets": [
    {
      "target_name": "writeback",
      "sources": ["writeback.c"],
      "cflags": ["-O2", "-std=gnu11"]
    }
  ]
}
