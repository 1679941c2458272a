// Start the writeback of a file's byte range to its device, without
// waiting for it: sync_file_range(2) with SYNC_FILE_RANGE_WRITE, run by
// one thread of this addon's own, fed through a queue.
//
// Why: a commit cycle writes its data into the page cache and then calls
// fdatasync once, which only then starts sending the cycle's pages to the
// device. Starting each large write's writeback as soon as it lands lets
// the device work while the cycle's other writes are copied and its
// record is staged, so the one fdatasync has less left to wait for
// (docs/BENCHMARKS.md, "writeback started as data lands"). It is a hint:
// it makes nothing durable (no cache flush, no metadata), and the
// durability contract rests on fdatasync alone.
//
// Why a thread of its own, not libuv's pool: sync_file_range blocks while
// the device's request queue is full, which is exactly when a cycle's
// data is going out, and on the pool it would hold one of the four
// threads the cycle's own writes need. (The pool version was measured
// too: its gain was within the noise of this one's, docs/BENCHMARKS.md.)
//
// Exports:
// - startWriteback(fd, offset, length): queue the range; returns at once.
//   Ranges that continue the last queued one of the same fd are merged. A
//   full queue drops the hint (it is only one).
// - forget(fd): Promise<void>: drop the queued ranges of fd and resolve
//   once the thread is not working on fd; await it before closing fd (a
//   closed descriptor's number may be reused by another file). The wait
//   runs on libuv's pool, so a device that holds a sync_file_range never
//   holds the event loop.
// - stats(): { started, failed, dropped } since the process started.
// - supported: true. Where sync_file_range does not exist (not Linux),
//   exports only `supported: false`, and src/disk/writeback.ts starts no
//   writeback.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__linux__)
#define HAVE_SYNC_FILE_RANGE 1
#include <pthread.h>
#else
#define HAVE_SYNC_FILE_RANGE 0
#endif

#if HAVE_SYNC_FILE_RANGE
typedef struct {
  int fd;
  int64_t offset;
  int64_t length;
} Range;

/* A ring of queued ranges; the thread takes from the head. */
#define QUEUE_SLOTS 256
static Range queue[QUEUE_SLOTS];
static size_t head = 0, count = 0;
static int working_fd = -1; /* the fd the thread is calling sync_file_range on, or -1 */
static uint64_t started = 0, failed = 0, dropped = 0;
static bool thread_running = false;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t work_done = PTHREAD_COND_INITIALIZER;

static void *run(void *arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (count == 0) pthread_cond_wait(&work_ready, &lock);
    Range r = queue[head];
    head = (head + 1) % QUEUE_SLOTS;
    count--;
    working_fd = r.fd;
    pthread_mutex_unlock(&lock);
    int rc = sync_file_range(r.fd, r.offset, r.length, SYNC_FILE_RANGE_WRITE);
    pthread_mutex_lock(&lock);
    started++;
    if (rc != 0) failed++;
    working_fd = -1;
    pthread_cond_broadcast(&work_done);
  }
  return NULL;
}

/* A non-negative integer argument (a safe integer). */
static bool integer_arg(napi_env env, napi_value v, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return false;
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!(d >= 0 && d <= 9007199254740991.0) || d != (double)(int64_t)d) return false;
  *out = (int64_t)d;
  return true;
}

static napi_value start_writeback(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int64_t fd, offset, length;
  if (argc < 3 || !integer_arg(env, argv[0], &fd) || fd > INT32_MAX || !integer_arg(env, argv[1], &offset) || !integer_arg(env, argv[2], &length)) {
    napi_throw_type_error(env, NULL, "startWriteback(fd, offset, length): three non-negative integers");
    return NULL;
  }
  pthread_mutex_lock(&lock);
  if (!thread_running) {
    pthread_t t;
    if (pthread_create(&t, NULL, run, NULL) == 0) {
      pthread_detach(t);
      thread_running = true;
    }
  }
  Range *last = count == 0 ? NULL : &queue[(head + count - 1) % QUEUE_SLOTS];
  if (!thread_running) {
    dropped++;
  } else if (last != NULL && last->fd == (int)fd && last->offset + last->length == offset) {
    last->length += length;
  } else if (count == QUEUE_SLOTS) {
    dropped++;
  } else {
    queue[(head + count) % QUEUE_SLOTS] = (Range){(int)fd, offset, length};
    count++;
    pthread_cond_signal(&work_ready);
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int fd;
} Forget;

/* Drop fd's queued ranges, keeping the others in order, and wait while the thread works on fd. */
static void forget_execute(napi_env env, void *data) {
  (void)env;
  Forget *f = (Forget *)data;
  pthread_mutex_lock(&lock);
  size_t kept = 0;
  for (size_t i = 0; i < count; i++) {
    Range r = queue[(head + i) % QUEUE_SLOTS];
    if (r.fd != f->fd) queue[(head + kept++) % QUEUE_SLOTS] = r;
  }
  count = kept;
  while (working_fd == f->fd) pthread_cond_wait(&work_done, &lock);
  pthread_mutex_unlock(&lock);
}

static void forget_complete(napi_env env, napi_status status, void *data) {
  (void)status;
  Forget *f = (Forget *)data;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_resolve_deferred(env, f->deferred, undefined);
  napi_delete_async_work(env, f->work);
  free(f);
}

static napi_value forget(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int64_t fd;
  if (argc < 1 || !integer_arg(env, argv[0], &fd) || fd > INT32_MAX) {
    napi_throw_type_error(env, NULL, "forget(fd): a non-negative integer");
    return NULL;
  }
  Forget *f = (Forget *)calloc(1, sizeof *f);
  if (f == NULL) {
    napi_throw_error(env, "ENOMEM", "forget: out of memory");
    return NULL;
  }
  f->fd = (int)fd;
  napi_value promise, name;
  napi_create_promise(env, &f->deferred, &promise);
  napi_create_string_utf8(env, "shardstore.writeback.forget", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, forget_execute, forget_complete, f, &f->work) != napi_ok || napi_queue_async_work(env, f->work) != napi_ok) {
    free(f);
    napi_throw_error(env, NULL, "forget: could not queue the work");
    return NULL;
  }
  return promise;
}

static napi_value stats(napi_env env, napi_callback_info info) {
  (void)info;
  pthread_mutex_lock(&lock);
  double s = (double)started, f = (double)failed, d = (double)dropped;
  pthread_mutex_unlock(&lock);
  napi_value out, v;
  napi_create_object(env, &out);
  napi_create_double(env, s, &v);
  napi_set_named_property(env, out, "started", v);
  napi_create_double(env, f, &v);
  napi_set_named_property(env, out, "failed", v);
  napi_create_double(env, d, &v);
  napi_set_named_property(env, out, "dropped", v);
  return out;
}

static void export_function(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}
#endif

static napi_value init(napi_env env, napi_value exports) {
  napi_value flag;
  napi_get_boolean(env, HAVE_SYNC_FILE_RANGE, &flag);
  napi_set_named_property(env, exports, "supported", flag);
#if HAVE_SYNC_FILE_RANGE
  export_function(env, exports, "startWriteback", start_writeback);
  export_function(env, exports, "forget", forget);
  export_function(env, exports, "stats", stats);
#endif
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
