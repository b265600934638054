#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/proc.h"

#define SCHEMA_VERSION 5
#define BUSY_MS 10000

struct fw_store {
    sqlite3 *db;
    char path[4096];
    dev_t dev; /* the file: handles of one store share its jobs' ids */
    ino_t ino;
};

static const char *const migrations[SCHEMA_VERSION] = {
    /* 1 */
    "CREATE TABLE videos(hash TEXT PRIMARY KEY, size INTEGER, seen REAL);"
    "CREATE TABLE jobs(id INTEGER PRIMARY KEY, video TEXT, input TEXT, settings TEXT,"
    "  state TEXT, started REAL, updated REAL, error TEXT);"
    "CREATE TABLE keyframes(job INTEGER, idx INTEGER, time REAL, name TEXT, jpeg BLOB,"
    "  PRIMARY KEY(job, idx));"
    "CREATE TABLE observations(job INTEGER, keyframe INTEGER, time REAL, json TEXT,"
    "  PRIMARY KEY(job, keyframe));"
    "CREATE TABLE results(video TEXT, settings TEXT, job INTEGER, report TEXT, created REAL,"
    "  PRIMARY KEY(video, settings));"
    "CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER);",
    /* 2: the process that runs a job, so that a live job is not resumed by another */
    "ALTER TABLE jobs ADD COLUMN pid INTEGER;",
    /* 3: single observations by what the frame looks like, for any video */
    "CREATE TABLE frames(key TEXT, phash INTEGER, luma REAL, spread REAL, width INTEGER,"
    "  height INTEGER, json TEXT, created REAL);"
    "CREATE INDEX frames_by_key ON frames(key, width, height);",
    /* 4: the colour of a frame's look (rows from before have none and never match) */
    "ALTER TABLE frames ADD COLUMN cb REAL; ALTER TABLE frames ADD COLUMN cr REAL;",
    /* 5: the job queue of `framewise serve` (src/queue/queue_sqlite.c reads and writes it) */
    "CREATE TABLE queue(id INTEGER PRIMARY KEY, state TEXT NOT NULL, payload TEXT NOT NULL,"
    "  key TEXT UNIQUE, status TEXT, result TEXT, created REAL, started REAL, finished REAL,"
    "  attempts INTEGER NOT NULL DEFAULT 0, pid INTEGER);"
    "CREATE INDEX queue_by_state ON queue(state, id);",
};

static int db_error(fw_store *s, int rc, fw_error *err)
{
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
        return fw_error_set(err, FW_EOPEN,
                            "%s: not a framewise store (%s); move it away or choose "
                            "another store",
                            s->path, sqlite3_errstr(rc));
    if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_PERM)
        return fw_error_set(err, FW_EOPEN,
                            "%s: cannot write the store (%s); choose another store "
                            "or run without one",
                            s->path, sqlite3_errstr(rc));
    return fw_error_set(err, FW_EIO, "%s: %s", s->path, sqlite3_errmsg(s->db));
}

static int exec(fw_store *s, const char *sql, fw_error *err)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_error(s, rc, err);
}

static int mkdirs_for(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return 0;
}

static int user_version(fw_store *s, int *version, fw_error *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_error(s, rc, err);
    rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return *version < 0 ? db_error(s, rc, err) : 0;
}

/* Brings the schema up to date, under the write lock: processes that open a new store at
 * once migrate it once. */
static int migrate(fw_store *s, fw_error *err)
{
    int version;
    if (user_version(s, &version, err))
        return err->code;
    if (version == SCHEMA_VERSION)
        return 0;
    if (exec(s, "BEGIN IMMEDIATE", err))
        return err->code;
    int rc = user_version(s, &version, err); /* another process may have done it */
    if (!rc && version > SCHEMA_VERSION)
        rc = fw_error_set(err, FW_EOPEN,
                          "%s: made by a newer framewise (schema %d, this one knows %d)", s->path,
                          version, SCHEMA_VERSION);
    for (int v = version; !rc && v < SCHEMA_VERSION; v++) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d;", v + 1);
        rc = exec(s, migrations[v], err) || exec(s, sql, err) ? err->code : 0;
    }
    if (!rc)
        rc = exec(s, "COMMIT", err);
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Before the schema is touched: the file is a framewise store (or empty), and it is
 * whole. Another program's SQLite file is refused (its tables are not ours to add to);
 * a damaged one fails SQLite's quick check. 0, an SQLite code, or -1 with err set. */
static int check_file(fw_store *s, fw_error *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT count(*), group_concat(name, ', ') FROM sqlite_master "
                                "WHERE type = 'table' AND name NOT IN ('videos', 'jobs', "
                                "'keyframes', 'observations', 'results', 'counters', 'frames', "
                                "'queue')",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    int foreign = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    if (foreign) {
        fw_error_set(err, FW_EOPEN,
                     "%s: not a framewise store: a SQLite database of another program (tables "
                     "%.200s); choose another store",
                     s->path, (const char *)sqlite3_column_text(st, 1));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    if ((rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL)) != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    const char *ok = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (ok && strcmp(ok, "ok") != 0) {
        fw_error_set(err, FW_EOPEN,
                     "%s: the store is damaged (SQLite's check: %.200s); move it away, or run "
                     "with --no-cache",
                     s->path, ok);
        rc = -1;
    } else
        rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
    sqlite3_finalize(st);
    return rc;
}

int fw_store_open(fw_store **out, const char *path, fw_error *err)
{
    *out = NULL;
    fw_store *s = calloc(1, sizeof *s);
    if (!s)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (path)
        snprintf(s->path, sizeof s->path, "%s", path);
    else if (xdg && *xdg)
        snprintf(s->path, sizeof s->path, "%s/framewise/framewise.db", xdg);
    else
        snprintf(s->path, sizeof s->path, "%s/.cache/framewise/framewise.db", home ? home : ".");
    if (mkdirs_for(s->path)) {
        fw_error_set(err, FW_EOPEN, "%s: cannot create its folder: %s", s->path, strerror(errno));
        free(s);
        return FW_EOPEN;
    }
    struct stat st;
    if (stat(s->path, &st) == 0 && !S_ISREG(st.st_mode)) { /* /dev/null, a FIFO, a folder */
        fw_error_set(err, FW_EOPEN, "%s: not a store: the store is a SQLite file, not %s", s->path,
                     S_ISDIR(st.st_mode) ? "a folder" : "a device, a pipe or a socket");
        free(s);
        return FW_EOPEN;
    }
    int rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK && sqlite3_db_readonly(s->db, "main") == 1)
        rc = SQLITE_READONLY; /* SQLite falls back to reading: nothing would be recorded */
    if (rc == SQLITE_OK)
        sqlite3_busy_timeout(s->db, BUSY_MS);
    if (rc == SQLITE_OK)
        rc = check_file(s, err);
    if (rc != SQLITE_OK) {
        if (rc > 0)
            db_error(s, rc, err);
        fw_store_close(s);
        return FW_EOPEN;
    }
    /* switching a new file to WAL needs it alone for a moment: another process opening it
     * at the same time can make that busy, and the busy handler does not cover it */
    for (int tries = 0;; tries++) {
        rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || tries == 100)
            break;
        usleep(50000);
    }
    rc = rc == SQLITE_OK ? exec(s, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err)
                         : db_error(s, rc, err);
    if (!rc)
        rc = migrate(s, err);
    if (rc) {
        fw_store_close(s);
        return rc;
    }
    if (stat(s->path, &st) == 0)
        s->dev = st.st_dev, s->ino = st.st_ino;
    *out = s;
    return 0;
}

const char *fw_store_path(const fw_store *s)
{
    return s->path;
}

void fw_store_close(fw_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s);
}

int fw_store_hash_file(const char *path, char hex[17], int64_t *size, fw_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fw_error_set(err, FW_EOPEN, "%s: cannot read: %s", path, strerror(errno));
    XXH3_state_t *st = XXH3_createState();
    XXH3_64bits_reset(st);
    /* on the heap: a thread-local buffer would be in every thread's static TLS, which
     * glibc takes from the thread's stack (civetweb's threads have 100 KB) */
    enum { BLOCK = 1 << 16 };
    char *buf = malloc(BLOCK);
    size_t n;
    *size = 0;
    while (buf && (n = fread(buf, 1, BLOCK, f)) > 0) {
        XXH3_64bits_update(st, buf, n);
        *size += (int64_t)n;
    }
    int bad = !buf || ferror(f);
    free(buf);
    fclose(f);
    snprintf(hex, 17, "%016llx", (unsigned long long)XXH3_64bits_digest(st));
    XXH3_freeState(st);
    return bad ? fw_error_set(err, FW_EOPEN, "%s: cannot read", path) : 0;
}

void fw_store_hash_text(const char *text, size_t n, char hex[17])
{
    snprintf(hex, 17, "%016llx", (unsigned long long)XXH3_64bits(text, n));
}

/* Prepares sql, binds "%s"-free arguments through the callers, steps once. */
static sqlite3_stmt *prepare(fw_store *s, const char *sql, fw_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        db_error(s, rc, err);
    return st;
}

static int done(fw_store *s, sqlite3_stmt *st, fw_error *err)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_error(s, rc, err);
}

/* The jobs this process runs now, by store file and id: another analysis of the same
 * process (a service's workers) must not resume one of them. Under live_mu; job 0 marks
 * a free place. */
typedef struct live_job {
    dev_t dev;
    ino_t ino;
    int64_t job;
} live_job;
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static live_job *lives;
static int n_lives;

static live_job *live_find(const fw_store *s, int64_t job)
{
    for (int i = 0; i < n_lives; i++)
        if (lives[i].job == job && (job == 0 || (lives[i].dev == s->dev && lives[i].ino == s->ino)))
            return &lives[i];
    return NULL;
}

static int live_here(const fw_store *s, int64_t job)
{
    return live_find(s, job) != NULL;
}

/* 0, or -1 when there is no memory for it. */
static int live_add(const fw_store *s, int64_t job)
{
    live_job *l = live_find(s, 0);
    if (!l) {
        live_job *more = realloc(lives, (size_t)(n_lives + 16) * sizeof *more);
        if (!more)
            return -1;
        memset(more + n_lives, 0, 16 * sizeof *more);
        lives = more;
        l = &lives[n_lives];
        n_lives += 16;
    }
    *l = (live_job){s->dev, s->ino, job};
    return 0;
}

static void live_drop(const fw_store *s, int64_t job)
{
    live_job *l = job ? live_find(s, job) : NULL;
    if (l)
        l->job = 0;
}

static int job_insert(fw_store *s, const char *video, const char *input, const char *settings,
                      int64_t *job, fw_error *err)
{
    sqlite3_stmt *st = prepare(s,
                               "INSERT INTO jobs(video, input, settings, state, started, "
                               "updated, pid) VALUES(?, ?, ?, 'running', ?, ?, ?)",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, video, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, input, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, settings, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 4, fw_wall_s());
    sqlite3_bind_double(st, 5, fw_wall_s());
    sqlite3_bind_int64(st, 6, getpid());
    if (done(s, st, err))
        return err->code;
    *job = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int fw_store_job_begin(fw_store *s, const char *video, int64_t size, const char *input,
                       const char *settings, int64_t *job, fw_error *err)
{
    fw_error local;
    if (!err) /* the caller does not want the message */
        err = &local;
    sqlite3_stmt *st = prepare(s,
                               "INSERT INTO videos(hash, size, seen) VALUES(?, ?, ?) "
                               "ON CONFLICT(hash) DO UPDATE SET seen = excluded.seen",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, video, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, size);
    sqlite3_bind_double(st, 3, fw_wall_s());
    if (done(s, st, err))
        return err->code;
    /* inserted and marked live at once: another thread's resume must not see it between */
    pthread_mutex_lock(&live_mu);
    int rc = job_insert(s, video, input, settings, job, err);
    if (!rc && live_add(s, *job))
        rc = fw_error_set(err, FW_ENOMEM, "%s: out of memory", s->path);
    pthread_mutex_unlock(&live_mu);
    return rc;
}

int fw_store_job_end(fw_store *s, int64_t job, const char *state, const char *error, fw_error *err)
{
    fw_error local;
    if (!err) /* the caller does not want the message */
        err = &local;
    /* ended, then no longer live: a resume in between would see it running and take it */
    pthread_mutex_lock(&live_mu);
    sqlite3_stmt *st =
        prepare(s, "UPDATE jobs SET state = ?, error = ?, updated = ? WHERE id = ?", err);
    int rc = st ? 0 : err->code;
    if (st) {
        sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
        if (error)
            sqlite3_bind_text(st, 2, error, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 3, fw_wall_s());
        sqlite3_bind_int64(st, 4, job);
        rc = done(s, st, err);
    }
    live_drop(s, job);
    pthread_mutex_unlock(&live_mu);
    return rc;
}

int fw_store_keyframe(fw_store *s, int64_t job, int index, double time, const char *name,
                      const void *jpeg, size_t n, fw_error *err)
{
    fw_error local;
    if (!err) /* the caller does not want the message */
        err = &local;
    sqlite3_stmt *st = prepare(s,
                               "INSERT OR REPLACE INTO keyframes(job, idx, time, name, jpeg) "
                               "VALUES(?, ?, ?, ?, ?)",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, job);
    sqlite3_bind_int(st, 2, index);
    sqlite3_bind_double(st, 3, time);
    sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob64(st, 5, jpeg, n, SQLITE_TRANSIENT);
    return done(s, st, err);
}

int fw_store_observation(fw_store *s, int64_t job, int keyframe, double time, const char *json,
                         fw_error *err)
{
    fw_error local;
    if (!err) /* the caller does not want the message */
        err = &local;
    sqlite3_stmt *st = prepare(s,
                               "INSERT OR REPLACE INTO observations(job, keyframe, time, json) "
                               "VALUES(?, ?, ?, ?)",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, job);
    sqlite3_bind_int(st, 2, keyframe);
    sqlite3_bind_double(st, 3, time);
    sqlite3_bind_text(st, 4, json, -1, SQLITE_TRANSIENT);
    return done(s, st, err);
}

int fw_store_result_put(fw_store *s, const char *video, const char *settings, int64_t job,
                        const char *report, fw_error *err)
{
    fw_error local;
    if (!err) /* the caller does not want the message */
        err = &local;
    sqlite3_stmt *st = prepare(s,
                               "INSERT OR REPLACE INTO results(video, settings, job, report, "
                               "created) VALUES(?, ?, ?, ?, ?)",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, video, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, settings, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, job);
    sqlite3_bind_text(st, 4, report, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 5, fw_wall_s());
    return done(s, st, err);
}

int fw_store_result_get(fw_store *s, const char *video, const char *settings, char **report,
                        int64_t *job, fw_error *err)
{
    fw_error local;
    if (!err) /* the caller does not want the message */
        err = &local;
    *report = NULL;
    sqlite3_stmt *st =
        prepare(s, "SELECT report, job FROM results WHERE video = ? AND settings = ?", err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, video, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, settings, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        *report = r ? strdup(r) : NULL;
        *job = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error(s, rc, err);
    return *report != NULL;
}

int fw_store_job_copy_keyframes(fw_store *s, int64_t from, int64_t to, fw_error *err)
{
    fw_error local;
    if (!err)
        err = &local;
    sqlite3_stmt *st = prepare(s,
                               "INSERT OR REPLACE INTO keyframes(job, idx, time, name, jpeg) "
                               "SELECT ?, idx, time, name, jpeg FROM keyframes WHERE job = ?",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, to);
    sqlite3_bind_int64(st, 2, from);
    return done(s, st, err);
}

int fw_store_job_result(fw_store *s, int64_t job, char **report, fw_error *err)
{
    fw_error local;
    if (!err)
        err = &local;
    *report = NULL;
    sqlite3_stmt *st = prepare(s, "SELECT report FROM results WHERE job = ?", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, job);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
        *report = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error(s, rc, err);
    return *report != NULL;
}

int fw_store_keyframes_each(fw_store *s, int64_t job,
                            int (*fn)(void *user, int index, const char *name, const void *jpeg,
                                      size_t n),
                            void *user, fw_error *err)
{
    fw_error local;
    if (!err) /* the caller does not want the message */
        err = &local;
    sqlite3_stmt *st =
        prepare(s, "SELECT idx, name, jpeg FROM keyframes WHERE job = ? ORDER BY idx", err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, job);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(user, sqlite3_column_int(st, 0), (const char *)sqlite3_column_text(st, 1),
               sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2))) {
            rc = SQLITE_DONE;
            break;
        }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_error(s, rc, err);
}

static int job_resume(fw_store *s, const char *video, const char *settings, int64_t *job,
                      fw_error *err);

int fw_store_job_resume(fw_store *s, const char *video, const char *settings, int64_t *job,
                        fw_error *err)
{
    fw_error local;
    if (!err)
        err = &local;
    /* decided and taken at once: by this process' threads (live_mu) and by other
     * processes (one write transaction) */
    pthread_mutex_lock(&live_mu);
    int rc = exec(s, "BEGIN IMMEDIATE", err);
    if (!rc) {
        rc = job_resume(s, video, settings, job, err);
        if ((rc == 0 || rc == 1) && exec(s, "COMMIT", err))
            rc = err->code;
        if (rc != 0 && rc != 1)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (rc == 1 && live_add(s, *job))
        rc = fw_error_set(err, FW_ENOMEM, "%s: out of memory", s->path);
    pthread_mutex_unlock(&live_mu);
    return rc;
}

static int job_resume(fw_store *s, const char *video, const char *settings, int64_t *job,
                      fw_error *err)
{
    /* killed (its process is gone) or failed; a job another live process runs is its own.
     * A done one too when there is no result of its video and settings (its summary
     * failed, so none was kept): its observations are still good. */
    sqlite3_stmt *st = prepare(s,
                               "SELECT id, state, pid FROM jobs WHERE video = ?1 AND "
                               "settings = ?2 AND (state != 'done' OR NOT EXISTS (SELECT 1 "
                               "FROM results WHERE video = ?1 AND settings = ?2)) "
                               "ORDER BY id DESC",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, video, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, settings, -1, SQLITE_TRANSIENT);
    int rc = SQLITE_DONE, found = 0;
    while (!found && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(st, 1);
        pid_t pid = (pid_t)sqlite3_column_int64(st, 2);
        int64_t id = sqlite3_column_int64(st, 0);
        int live = live_here(s, id) || (state && strcmp(state, "running") == 0 && pid > 0 &&
                                        pid != getpid() && fw_pid_alive(pid));
        if (!live) {
            *job = sqlite3_column_int64(st, 0);
            found = 1;
        }
    }
    sqlite3_finalize(st);
    if (!found && rc != SQLITE_DONE)
        return db_error(s, rc, err);
    if (!found)
        return 0;
    if (!(st = prepare(s,
                       "UPDATE jobs SET state = 'running', error = NULL, pid = ?, updated = ? "
                       "WHERE id = ?",
                       err)))
        return err->code;
    sqlite3_bind_int64(st, 1, getpid());
    sqlite3_bind_double(st, 2, fw_wall_s());
    sqlite3_bind_int64(st, 3, *job);
    return done(s, st, err) ? err->code : 1;
}

json_t *fw_store_observations(fw_store *s, int64_t job, fw_error *err)
{
    sqlite3_stmt *st = prepare(s, "SELECT keyframe, json FROM observations WHERE job = ?", err);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, job);
    json_t *out = json_object();
    while (sqlite3_step(st) == SQLITE_ROW) {
        char key[32];
        snprintf(key, sizeof key, "%d", sqlite3_column_int(st, 0));
        json_t *o = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
        if (o)
            json_object_set_new(out, key, o);
    }
    sqlite3_finalize(st);
    return out;
}

int fw_store_frame_put(fw_store *s, const char *key, const fw_frame_look *look, const char *json,
                       fw_error *err)
{
    fw_error local;
    if (!err)
        err = &local;
    sqlite3_stmt *st = prepare(s,
                               "INSERT INTO frames(key, phash, luma, spread, width, height, "
                               "json, created, cb, cr) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)look->phash);
    sqlite3_bind_double(st, 3, look->luma);
    sqlite3_bind_double(st, 4, look->spread);
    sqlite3_bind_int(st, 5, look->width);
    sqlite3_bind_int(st, 6, look->height);
    sqlite3_bind_text(st, 7, json, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 8, fw_wall_s());
    sqlite3_bind_double(st, 9, look->cb);
    sqlite3_bind_double(st, 10, look->cr);
    return done(s, st, err);
}

int fw_store_frame_get(fw_store *s, const char *key, const fw_frame_look *look, int max_bits,
                       char **json, fw_error *err)
{
    fw_error local;
    if (!err)
        err = &local;
    *json = NULL;
    sqlite3_stmt *st = prepare(s,
                               "SELECT phash, json FROM frames WHERE key = ? AND width = ? AND "
                               "height = ? AND abs(luma - ?) <= ? AND abs(spread - ?) <= ? AND "
                               "abs(cb - ?) <= ? AND abs(cr - ?) <= ?",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, look->width);
    sqlite3_bind_int(st, 3, look->height);
    sqlite3_bind_double(st, 4, look->luma);
    sqlite3_bind_double(st, 5, FW_LOOK_TOLERANCE);
    sqlite3_bind_double(st, 6, look->spread);
    sqlite3_bind_double(st, 7, FW_LOOK_TOLERANCE);
    sqlite3_bind_double(st, 8, look->cb);
    sqlite3_bind_double(st, 9, FW_LOOK_TOLERANCE);
    sqlite3_bind_double(st, 10, look->cr);
    sqlite3_bind_double(st, 11, FW_LOOK_TOLERANCE);
    int rc, best = max_bits + 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int bits = __builtin_popcountll((uint64_t)sqlite3_column_int64(st, 0) ^ look->phash);
        if (bits < best) {
            best = bits;
            free(*json);
            *json = strdup((const char *)sqlite3_column_text(st, 1));
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*json);
        *json = NULL;
        return db_error(s, rc, err);
    }
    return *json != NULL;
}

int fw_store_count(fw_store *s, const char *name, int64_t add, fw_error *err)
{
    fw_error local;
    if (!err) /* the caller does not want the message */
        err = &local;
    sqlite3_stmt *st = prepare(s,
                               "INSERT INTO counters(name, value) VALUES(?, ?) "
                               "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                               err);
    if (!st)
        return err->code;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, add);
    return done(s, st, err);
}

static int64_t scalar(fw_store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

json_t *fw_store_stats(fw_store *s, fw_error *err)
{
    fw_error local;
    if (!err) /* the caller does not want the message */
        err = &local;
    json_t *counters = json_object();
    sqlite3_stmt *st = prepare(s, "SELECT name, value FROM counters ORDER BY name", err);
    if (!st) {
        json_decref(counters);
        return NULL;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
        json_object_set_new(counters, (const char *)sqlite3_column_text(st, 0),
                            json_integer(sqlite3_column_int64(st, 1)));
    sqlite3_finalize(st);
    struct stat fs;
    json_int_t bytes = stat(s->path, &fs) == 0 ? (json_int_t)fs.st_size : 0;
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "path", s->path, "bytes",
                     bytes, "videos", (json_int_t)scalar(s, "SELECT count(*) FROM videos"), "jobs",
                     (json_int_t)scalar(s, "SELECT count(*) FROM jobs"), "keyframes",
                     (json_int_t)scalar(s, "SELECT count(*) FROM keyframes"), "observations",
                     (json_int_t)scalar(s, "SELECT count(*) FROM observations"), "results",
                     (json_int_t)scalar(s, "SELECT count(*) FROM results"), "image_bytes",
                     (json_int_t)scalar(s, "SELECT coalesce(sum(length(jpeg)), 0) FROM keyframes"),
                     "counters", counters);
}

json_t *fw_store_jobs(fw_store *s, fw_error *err)
{
    fw_error local;
    if (!err) /* the caller does not want the message */
        err = &local;
    sqlite3_stmt *st = prepare(
        s,
        "SELECT id, input, video, state, started, updated, error,"
        " (SELECT count(*) FROM keyframes k WHERE k.job = j.id),"
        " (SELECT count(*) FROM observations o WHERE o.job = j.id) FROM jobs j ORDER BY id DESC",
        err);
    if (!st)
        return NULL;
    json_t *out = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *e = (const char *)sqlite3_column_text(st, 6);
        json_array_append_new(
            out, json_pack("{s:I, s:s, s:s, s:s, s:f, s:f, s:o, s:I, s:I}", "id",
                           (json_int_t)sqlite3_column_int64(st, 0), "input",
                           (const char *)sqlite3_column_text(st, 1), "video",
                           (const char *)sqlite3_column_text(st, 2), "state",
                           (const char *)sqlite3_column_text(st, 3), "started",
                           sqlite3_column_double(st, 4), "updated", sqlite3_column_double(st, 5),
                           "error", e ? json_string(e) : json_null(), "keyframes",
                           (json_int_t)sqlite3_column_int64(st, 7), "observations",
                           (json_int_t)sqlite3_column_int64(st, 8)));
    }
    sqlite3_finalize(st);
    return out;
}

int fw_store_clear(fw_store *s, int *kept, fw_error *err)
{
    *kept = 0;
    if (exec(s,
             "BEGIN IMMEDIATE; CREATE TEMP TABLE IF NOT EXISTS keep(id INTEGER PRIMARY KEY);"
             " DELETE FROM keep;",
             err))
        return err->code;
    /* a job that runs now (its process is alive) keeps its rows: it goes on recording */
    sqlite3_stmt *st = prepare(s, "SELECT id, pid FROM jobs WHERE state = 'running'", err);
    sqlite3_stmt *ins = st ? prepare(s, "INSERT INTO keep(id) VALUES(?)", err) : NULL;
    while (ins && sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        pid_t pid = (pid_t)sqlite3_column_int64(st, 1);
        if (live_here(s, id) || (pid > 0 && fw_pid_alive(pid))) {
            sqlite3_bind_int64(ins, 1, id);
            sqlite3_step(ins);
            sqlite3_reset(ins);
            (*kept)++;
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    int rc = ins ? exec(s,
                        "DELETE FROM results; DELETE FROM counters;"
                        " DELETE FROM observations WHERE job NOT IN (SELECT id FROM keep);"
                        " DELETE FROM keyframes WHERE job NOT IN (SELECT id FROM keep);"
                        " DELETE FROM jobs WHERE id NOT IN (SELECT id FROM keep);"
                        " DELETE FROM videos WHERE hash NOT IN (SELECT video FROM jobs);"
                        " DROP TABLE keep; COMMIT;",
                        err)
                 : err->code;
    if (rc)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int fw_store_vacuum(fw_store *s, fw_error *err)
{
    return exec(s, "VACUUM; PRAGMA wal_checkpoint(TRUNCATE);", err);
}
