// MD5 of a request body off the event loop: the S3 ETag of a PUT or an
// UploadPart is the MD5 of its body, and at about 1.5 ms per MiB on the
// JavaScript thread it was half of that thread's time under S3 PUTs of 1
// MiB (docs/BENCHMARKS.md, "MD5 of large bodies off the event loop").
// Here the hashing runs on libuv's thread pool (napi async work) with the
// MD5 of the OpenSSL that Node itself carries (EVP, the same code
// `crypto.createHash('md5')` runs): the addon links against no library;
// the symbols are the node binary's own.
//
// Exports:
// - create(): an MD5 context (an external; freed by the collector).
// - update(ctx, pieces: Uint8Array[]): Promise<void>, hashing the pieces
//   in order on a pool thread. The caller must not start another update
//   of the same context before this one settled, nor change the pieces.
// - digest(ctx): Buffer (16 bytes); the context is then spent.
// Where the addon did not build, src/base/md5.ts hashes on the event loop.
#include <node_api.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  EVP_MD_CTX *md;
  bool busy;  /* an update is running */
  bool spent; /* digest was taken */
} Context;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref ctx_ref;
  Context *ctx;
  size_t count;
  napi_ref *refs;        /* keep each piece alive until hashed */
  const uint8_t **data;
  size_t *lengths;
  bool ok;
} Update;

static void finalize_context(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Context *c = (Context *)data;
  EVP_MD_CTX_free(c->md);
  free(c);
}

static napi_value create(napi_env env, napi_callback_info info) {
  (void)info;
  Context *c = (Context *)calloc(1, sizeof *c);
  if (c == NULL) {
    napi_throw_error(env, "ENOMEM", "md5.create: out of memory");
    return NULL;
  }
  c->md = EVP_MD_CTX_new();
  if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_md5(), NULL) != 1) {
    EVP_MD_CTX_free(c->md);
    free(c);
    napi_throw_error(env, NULL, "md5.create: EVP_DigestInit_ex failed");
    return NULL;
  }
  napi_value out;
  if (napi_create_external(env, c, finalize_context, NULL, &out) != napi_ok) {
    EVP_MD_CTX_free(c->md);
    free(c);
    return NULL;
  }
  return out;
}

static Context *context_arg(napi_env env, napi_value v) {
  napi_valuetype t;
  void *data = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return (Context *)data;
}

static void execute(napi_env env, void *data) {
  (void)env;
  Update *u = (Update *)data;
  u->ok = true;
  for (size_t i = 0; i < u->count && u->ok; i++) {
    if (u->lengths[i] > 0 && EVP_DigestUpdate(u->ctx->md, u->data[i], u->lengths[i]) != 1) u->ok = false;
  }
}

static void release(napi_env env, Update *u) {
  for (size_t i = 0; i < u->count; i++) {
    if (u->refs[i] != NULL) napi_delete_reference(env, u->refs[i]);
  }
  if (u->ctx_ref != NULL) napi_delete_reference(env, u->ctx_ref);
  free(u->refs);
  free(u->data);
  free(u->lengths);
  free(u);
}

static void complete(napi_env env, napi_status status, void *data) {
  Update *u = (Update *)data;
  u->ctx->busy = false;
  if (status == napi_ok && u->ok) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, u->deferred, undefined);
  } else {
    napi_value message, error;
    napi_create_string_utf8(env, status == napi_ok ? "md5.update: EVP_DigestUpdate failed" : "md5.update: cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, u->deferred, error);
  }
  napi_delete_async_work(env, u->work);
  release(env, u);
}

static napi_value update(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  Context *c = argc < 2 ? NULL : context_arg(env, argv[0]);
  bool is_array = false;
  if (c == NULL || napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "md5.update(ctx, pieces): a context from create() and an array of Uint8Array");
    return NULL;
  }
  if (c->busy || c->spent) {
    napi_throw_error(env, NULL, c->spent ? "md5.update: the digest was already taken" : "md5.update: the previous update has not settled");
    return NULL;
  }
  uint32_t count = 0;
  napi_get_array_length(env, argv[1], &count);
  Update *u = (Update *)calloc(1, sizeof *u);
  if (u != NULL) {
    u->refs = (napi_ref *)calloc(count + 1, sizeof *u->refs);
    u->data = (const uint8_t **)calloc(count + 1, sizeof *u->data);
    u->lengths = (size_t *)calloc(count + 1, sizeof *u->lengths);
  }
  if (u == NULL || u->refs == NULL || u->data == NULL || u->lengths == NULL) {
    if (u != NULL) {
      free(u->refs);
      free(u->data);
      free(u->lengths);
      free(u);
    }
    napi_throw_error(env, "ENOMEM", "md5.update: out of memory");
    return NULL;
  }
  u->ctx = c;
  for (uint32_t i = 0; i < count; i++) {
    napi_value piece;
    bool typed = false;
    napi_typedarray_type type;
    size_t length = 0;
    void *bytes = NULL;
    if (napi_get_element(env, argv[1], i, &piece) != napi_ok || napi_is_typedarray(env, piece, &typed) != napi_ok || !typed ||
        napi_get_typedarray_info(env, piece, &type, &length, &bytes, NULL, NULL) != napi_ok || type != napi_uint8_array) {
      u->count = i;
      release(env, u);
      napi_throw_type_error(env, NULL, "md5.update: every piece must be a Uint8Array");
      return NULL;
    }
    napi_create_reference(env, piece, 1, &u->refs[i]);
    u->data[i] = (const uint8_t *)bytes;
    u->lengths[i] = length;
  }
  u->count = count;
  napi_create_reference(env, argv[0], 1, &u->ctx_ref);
  napi_value promise, name;
  napi_create_promise(env, &u->deferred, &promise);
  napi_create_string_utf8(env, "shardstore.md5.update", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, execute, complete, u, &u->work) != napi_ok || napi_queue_async_work(env, u->work) != napi_ok) {
    release(env, u);
    napi_throw_error(env, NULL, "md5.update: could not queue the work");
    return NULL;
  }
  c->busy = true;
  return promise;
}

static napi_value digest(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  Context *c = argc < 1 ? NULL : context_arg(env, argv[0]);
  if (c == NULL) {
    napi_throw_type_error(env, NULL, "md5.digest(ctx): a context from create()");
    return NULL;
  }
  if (c->busy || c->spent) {
    napi_throw_error(env, NULL, c->spent ? "md5.digest: the digest was already taken" : "md5.digest: an update has not settled");
    return NULL;
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(c->md, out, &n) != 1) {
    napi_throw_error(env, NULL, "md5.digest: EVP_DigestFinal_ex failed");
    return NULL;
  }
  c->spent = true;
  napi_value buf;
  void *copy = NULL;
  napi_create_buffer_copy(env, n, out, &copy, &buf);
  return buf;
}

static void export_function(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static napi_value init(napi_env env, napi_value exports) {
  export_function(env, exports, "create", create);
  export_function(env, exports, "update", update);
  export_function(env, exports, "digest", digest);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
