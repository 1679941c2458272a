{
  "targets": [
    {
      "target_name": "crc32c",
      "sources": ["crc32c.c"],
      "cflags": ["-O2", "-std=c11"]
    }
  ]
}
