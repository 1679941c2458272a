{
  "targets": [
    {
      "target_name": "md5",
      "sources": ["md5.c"],
      "cflags": ["-O2", "-std=gnu11"]
    }
  ]
}
