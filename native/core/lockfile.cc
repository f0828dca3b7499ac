// POSIX lock files: exclusive claims by link(), stale takeover by a succession chain, a native
// heartbeat thread. See lockfile.h for the outline and docs/locks.md for the guarantees.
#include "lockfile.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>
#include <utility>
#include <vector>

namespace hierimpute::locks {
namespace {

constexpr const char* kMagic = "hierimpute-lock 1";
constexpr size_t kMaxRecordBytes = 64 * 1024;
constexpr int kMaxChain = 64;         // succession chain links followed before giving up (returns null)
constexpr int kMaxAttempts = 16;      // claim attempts when the lock keeps changing under us
constexpr size_t kMaxLockName = 200;  // bytes in the lock file's name (see TakeoverPath)

std::string ErrnoText(int err) {
  std::string text = std::strerror(err);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* name = strerrorname_np(err)) text += std::string(" (") + name + ")";
#endif
  return text;
}

[[noreturn]] void Fail(const std::string& op, const std::string& path, int err) {
  throw LockError("hierimpute lock: cannot " + op + " '" + path + "': " + ErrnoText(err));
}

struct PathParts {
  std::string dir;   // "." when the path has no slash
  std::string base;  // final component
};

PathParts Split(const std::string& path) {
  if (path.empty()) throw LockError("hierimpute lock: the lock path is empty");
  size_t slash = path.find_last_of('/');
  PathParts p;
  if (slash == std::string::npos) {
    p.dir = ".";
    p.base = path;
  } else {
    p.dir = slash == 0 ? "/" : path.substr(0, slash);
    p.base = path.substr(slash + 1);
  }
  if (p.base.empty() || p.base == "." || p.base == "..")
    throw LockError("hierimpute lock: '" + path + "' does not name a file (give a path like dir/node.lock)");
  return p;
}

std::string Join(const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; }

// Hidden helper names next to the lock: temp records and takeover (succession) files.
std::string TempPath(const PathParts& p, const std::string& token) {
  return Join(p.dir, "." + p.base.substr(0, 64) + "." + token + ".tmp");
}
std::string TakeoverPath(const PathParts& p, const std::string& token) {
  return Join(p.dir, "." + p.base + ".takeover." + token);
}

int64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int64_t MtimeMs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

std::string ReadSmallFile(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

// Machine identity, computed once and never destroyed (safe for threads running at exit).
const std::string& BootId() {
  static const std::string* v = new std::string(ReadSmallFile("/proc/sys/kernel/random/boot_id"));
  return *v;
}
const std::string& PidNs() {
  static const std::string* v = [] {
    char buf[128];
    ssize_t n = readlink("/proc/self/ns/pid", buf, sizeof(buf) - 1);
    return new std::string(n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string());
  }();
  return *v;
}
std::string HostName() {
  char buf[256];
  if (gethostname(buf, sizeof(buf)) != 0) return "unknown";
  buf[sizeof(buf) - 1] = '\0';
  return buf;
}

bool CleanValue(const std::string& v) { return v.find('\n') == std::string::npos && v.find('\0') == std::string::npos; }

// A temp file holding content, fsync'd, still open. Its descriptor is kept: after link() it is the
// lock's own inode, which the heartbeat refreshes.
struct TempFile {
  std::string path;
  int fd = -1;
  ~TempFile() {
    if (fd >= 0) close(fd);
    if (!path.empty()) unlink(path.c_str());
  }
  int ReleaseFd() {
    int f = fd;
    fd = -1;
    return f;
  }
};

void WriteTemp(const PathParts& p, const std::string& content, TempFile* tmp) {
  tmp->path = TempPath(p, NewToken());
  tmp->fd = open(tmp->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (tmp->fd < 0) {
    int err = errno;
    tmp->path.clear();
    throw LockError("hierimpute lock: cannot create a temp file in the lock folder '" + p.dir + "' (for '" +
                    Join(p.dir, p.base) + "'): " + ErrnoText(err) +
                    (err == ENOENT   ? "; create the folder first"
                     : err == EACCES ? "; the folder is not writable"
                                     : ""));
  }
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = write(tmp->fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Fail("write", tmp->path, errno);
    }
    off += static_cast<size_t>(n);
  }
  if (fsync(tmp->fd) != 0) Fail("fsync", tmp->path, errno);
}

// link(temp, target): true when target now is our temp file's inode. EEXIST = someone else's.
// On NFS a link() whose reply was lost can report an error although it happened: the temp file's
// link count (2) is the authority (the classic portable NFS method).
bool LinkExclusive(const TempFile& tmp, const std::string& target) {
  if (link(tmp.path.c_str(), target.c_str()) == 0) return true;
  int err = errno;
  struct stat st {};
  if (fstat(tmp.fd, &st) == 0 && st.st_nlink >= 2) return true;
  if (err == EEXIST) return false;
  Fail("create", target, err);
}

void FsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) Fail("open the lock folder", dir, errno);
  if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
    int err = errno;
    close(fd);
    Fail("fsync the lock folder", dir, err);
  }
  close(fd);
}

// Test-only hook (tests set it in child processes; nothing else does): HIERIMPUTE_LOCK_TEST_GATE=<dir>
// holds a takeover at the two points where a slow taker matters, "stale" (the lock was seen stale)
// and "right" (the succession right is held). At each point the process creates
// <dir>/paused.<pid>.<point>, then waits until <dir>/go.<pid>.<point> or <dir>/go exists. A test
// thus knows the taker sits inside the window, acts (releases, SIGKILLs, claims), then opens the
// gate. A point already opened lets later arrivals straight through. A gate that cannot be created,
// or stays closed for kTestGateMaxWaitMs, ends the process with status 70: a broken test fails
// instead of hanging or silently running without the interleaving it wanted.
constexpr int64_t kTestGateMaxWaitMs = 60000;

void TestGate(const char* point) {
  static const std::string* dir = [] {
    const char* v = std::getenv("HIERIMPUTE_LOCK_TEST_GATE");
    return v && *v ? new std::string(v) : nullptr;
  }();
  if (!dir) return;
  const std::string pid = std::to_string(getpid());
  const std::string paused = Join(*dir, "paused." + pid + "." + point);
  const std::string mine = Join(*dir, "go." + pid + "." + point);
  const std::string all = Join(*dir, "go");
  int fd = open(paused.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "hierimpute lock test gate: cannot create '%s': %s\n", paused.c_str(),
                 ErrnoText(errno).c_str());
    _exit(70);
  }
  close(fd);
  const int64_t giveUp = NowMs() + kTestGateMaxWaitMs;
  while (access(mine.c_str(), F_OK) != 0 && access(all.c_str(), F_OK) != 0) {
    if (NowMs() > giveUp) {
      std::fprintf(stderr, "hierimpute lock test gate: '%s' not opened within %lld ms\n", paused.c_str(),
                   static_cast<long long>(kTestGateMaxWaitMs));
      _exit(70);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// unlink that tolerates ENOENT (somebody already removed it).
void UnlinkIfPresent(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) Fail("remove", path, errno);
}

// ---- succession rights --------------------------------------------------------------------------
// R(T), the right to remove a lock whose record carries token T, belongs to whoever created
// `.<name>.takeover.<T>` (creation is exclusive: link). When that file's holder h is itself stale,
// the right passes to whoever creates `.<name>.takeover.<h>`, and so on. Names are never reused
// (tokens are random), so every hand-over is an exclusive create: no rename, no unlink of a file
// that might meanwhile have become someone else's.
enum class Succession { Held, Busy, Vanished };

struct SuccessionState {
  std::string held;                // the takeover file we created (always removed when we are done)
  std::vector<std::string> chain;  // stale takeover files we walked past
  // Set once the lock no longer carries the generation's token: the right is then worthless and the
  // whole chain can go. While the lock still carries it, the chain must stay: removing N(T) while a
  // live successor holds N(h) further down would let a newcomer win N(T) too (two rights at once).
  bool generationGone = false;
  ~SuccessionState() {
    if (!held.empty()) unlink(held.c_str());
    if (generationGone)
      for (const auto& c : chain) unlink(c.c_str());
  }
};

Succession AcquireSuccession(const PathParts& p, const std::string& token, int64_t leaseMs, const OwnerRecord& me,
                             SuccessionState* s) {
  OwnerRecord rec = me;
  rec.token = NewToken();  // a holder token of its own: chains never collide with lock tokens
  TempFile tmp;
  WriteTemp(p, SerializeRecord(rec), &tmp);
  std::string x = token;
  for (int depth = 0; depth < kMaxChain; ++depth) {
    std::string n = TakeoverPath(p, x);
    if (LinkExclusive(tmp, n)) {
      s->held = n;
      return Succession::Held;
    }
    OwnerRecord cur;
    struct stat st {};
    if (!ReadRecord(n, &cur, &st)) return Succession::Vanished;
    if (!RecordIsStale(cur, st, leaseMs)) return Succession::Busy;
    s->chain.push_back(n);
    x = cur.token;
  }
  return Succession::Busy;
}

}  // namespace

// ---- records -------------------------------------------------------------------------------------

std::string NewToken() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::random_device rd;  // fallback: kernels without getrandom
      for (; got < sizeof(bytes); ++got) bytes[got] = static_cast<unsigned char>(rd());
      break;
    }
    got += static_cast<size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string t;
  for (unsigned char b : bytes) {
    t += hex[b >> 4];
    t += hex[b & 15];
  }
  return t;
}

std::string SerializeRecord(const OwnerRecord& r) {
  std::string s = kMagic;
  s += "\nhost=" + r.host;
  s += "\npid=" + std::to_string(r.pid);
  s += "\njob=" + r.jobId;
  s += "\nrank=" + (r.rank >= 0 ? std::to_string(r.rank) : std::string());
  s += "\ncreated_ms=" + std::to_string(r.createdAtMs);
  s += "\ntoken=" + r.token;
  s += "\nboot=" + r.bootId;
  s += "\npidns=" + r.pidNs;
  s += "\n";
  return s;
}

bool ParseRecord(const std::string& text, OwnerRecord* rec) {
  if (text.empty() || text.back() != '\n') return false;
  size_t pos = 0;
  bool first = true, hasHost = false, hasPid = false, hasToken = false, hasCreated = false;
  OwnerRecord r;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (first) {
      if (line != kMagic) return false;
      first = false;
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string::npos) return false;
    std::string key = line.substr(0, eq), val = line.substr(eq + 1);
    try {
      if (key == "host") {
        r.host = val;
        hasHost = !val.empty();
      } else if (key == "pid") {
        r.pid = std::stoll(val);
        hasPid = true;
      } else if (key == "job") {
        r.jobId = val;
      } else if (key == "rank") {
        r.rank = val.empty() ? -1 : std::stoll(val);
      } else if (key == "created_ms") {
        r.createdAtMs = std::stoll(val);
        hasCreated = true;
      } else if (key == "token") {
        r.token = val;
        hasToken = val.size() == 32 && val.find_first_not_of("0123456789abcdef") == std::string::npos;
      } else if (key == "boot") {
        r.bootId = val;
      } else if (key == "pidns") {
        r.pidNs = val;
      }  // unknown keys: written by a newer version, ignored
    } catch (const std::exception&) {
      return false;
    }
  }
  if (!(hasHost && hasPid && hasToken && hasCreated)) return false;
  *rec = std::move(r);
  return true;
}

OwnerRecord MakeOwnRecord(const std::string& jobId, int64_t rank) {
  if (!CleanValue(jobId)) throw LockError("hierimpute lock: option jobId must not contain a newline or NUL");
  OwnerRecord r;
  r.host = HostName();
  r.pid = static_cast<int64_t>(getpid());
  r.jobId = jobId;
  r.rank = rank;
  r.createdAtMs = NowMs();
  r.token = NewToken();
  r.bootId = BootId();
  r.pidNs = PidNs();
  return r;
}

bool ReadRecord(const std::string& path, OwnerRecord* rec, struct stat* st) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ESTALE) return false;  // ESTALE: NFS, removed by another client
    Fail("open", path, errno);
  }
  if (fstat(fd, st) != 0) {
    int err = errno;
    close(fd);
    Fail("stat", path, err);
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      if (err == ESTALE) return false;  // NFS: replaced/removed by another client meanwhile
      Fail("read", path, err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxRecordBytes) break;
  }
  close(fd);
  if (!ParseRecord(text, rec)) {
    throw LockError("hierimpute lock: '" + path + "' is not a hierimpute lock file (" + std::to_string(text.size()) +
                    " bytes, no complete owner record); if no job is using this folder, remove it");
  }
  return true;
}

bool OwnerProvablyDead(const OwnerRecord& rec) {
  // Same machine = same host name AND same boot AND same pid namespace; otherwise a pid says nothing.
  if (rec.pid <= 0 || rec.host != HostName() || rec.bootId != BootId() || rec.pidNs != PidNs()) return false;
  if (rec.pid == static_cast<int64_t>(getpid())) return false;
  return kill(static_cast<pid_t>(rec.pid), 0) != 0 && errno == ESRCH;
}

bool RecordIsStale(const OwnerRecord& rec, const struct stat& st, int64_t leaseMs) {
  if (NowMs() - MtimeMs(st) > leaseMs) return true;
  return OwnerProvablyDead(rec);
}

// ---- claims --------------------------------------------------------------------------------------

Claim::Claim(std::string path, OwnerRecord owner, int fd, int64_t leaseMs)
    : path_(std::move(path)), owner_(std::move(owner)), fd_(fd), leaseMs_(leaseMs) {}

Claim::~Claim() {
  if (fd_ >= 0) close(fd_);
}

void Claim::StartHeartbeat(const std::shared_ptr<Claim>& self, int64_t heartbeatMs) {
  if (heartbeatMs <= 0) return;
  // Detached on purpose: the process may exit (process.exit, a signal) without joining; the thread
  // owns a reference to the Claim and touches only its own file descriptor.
  std::thread([self, heartbeatMs] { self->HeartbeatLoop(heartbeatMs); }).detach();
}

void Claim::HeartbeatLoop(int64_t heartbeatMs) {
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    cv_.wait_for(lk, std::chrono::milliseconds(heartbeatMs), [this] { return stop_; });
    if (stop_) break;
    lk.unlock();
    OwnerRecord cur;
    struct stat st {};
    bool have = false, failed = false;
    try {
      have = ReadRecord(path_, &cur, &st);
    } catch (const LockError&) {
      failed = true;  // transient (EIO, NFS hiccup): try again next beat
    }
    bool mine = have && cur.token == owner_.token;
    lk.lock();
    if (stop_) break;  // released meanwhile (release() closes fd_ under the same mutex)
    if (failed) continue;
    if (!mine) {
      lost_.store(true);
      break;
    }
    // futimens on our own descriptor: if the lock was replaced since the check, this refreshes our
    // orphaned inode, never the new owner's file.
    if (fd_ >= 0 && futimens(fd_, nullptr) == 0) beats_.fetch_add(1);
  }
}

void Claim::StopHeartbeat() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

bool Claim::StillOwned() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (released_) return false;
  }
  if (lost_.load()) return false;
  OwnerRecord cur;
  struct stat st {};
  bool mine = ReadRecord(path_, &cur, &st) && cur.token == owner_.token;
  if (!mine) lost_.store(true);
  return mine;
}

bool Claim::Release() {
  StopHeartbeat();
  std::lock_guard<std::mutex> lk(mu_);
  if (released_) return false;
  released_ = true;
  // Close our descriptor before unlinking: on NFS, unlinking a file this client still has open
  // leaves a `.nfsXXXX` silly-rename in the folder until the descriptor is closed.
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (lost_.load()) return false;
  PathParts p = Split(path_);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    // Take the succession right of our own token first: while we hold it no taker can remove the
    // lock, so the token check below and the unlink cannot be separated by a takeover.
    SuccessionState s;
    Succession r = AcquireSuccession(p, owner_.token, leaseMs_, owner_, &s);
    if (r == Succession::Vanished) continue;
    if (r == Succession::Busy) {  // a live taker is replacing our (stale-looking) lock: not ours
      lost_.store(true);
      return false;
    }
    OwnerRecord cur;
    struct stat st {};
    bool mine = ReadRecord(path_, &cur, &st) && cur.token == owner_.token;
    if (mine) UnlinkIfPresent(path_);
    s.generationGone = true;  // removed by us, or already not carrying our token
    if (!mine) lost_.store(true);
    return mine;
  }
  lost_.store(true);
  return false;
}

std::shared_ptr<Claim> TryClaim(const std::string& path, const ClaimOptions& opts) {
  if (opts.leaseMs <= 0) throw LockError("hierimpute lock: option leaseMs must be > 0");
  PathParts p = Split(path);
  // Takeover files are `.<name>.takeover.<32 hex>`: refuse now what would fail (ENAMETOOLONG) only
  // at the first stale takeover.
  if (p.base.size() > kMaxLockName)
    throw LockError("hierimpute lock: the lock file name of '" + path + "' is " + std::to_string(p.base.size()) +
                    " bytes; at most " + std::to_string(kMaxLockName) +
                    " are allowed (its takeover files add 43 bytes; NAME_MAX is 255)");
  OwnerRecord me = MakeOwnRecord(opts.jobId, opts.rank);
  {
    // Fast refusal (no temp file, no fsync) when a live owner holds it; link() below decides the rest.
    OwnerRecord cur;
    struct stat st {};
    if (ReadRecord(path, &cur, &st) && !RecordIsStale(cur, st, opts.leaseMs)) return nullptr;
  }
  TempFile tmp;
  WriteTemp(p, SerializeRecord(me), &tmp);

  bool claimed = false;
  for (int attempt = 0; attempt < kMaxAttempts && !claimed; ++attempt) {
    if (LinkExclusive(tmp, path)) {
      claimed = true;
      break;
    }
    OwnerRecord cur;
    struct stat st {};
    if (!ReadRecord(path, &cur, &st)) continue;                 // released meanwhile: try again
    if (!RecordIsStale(cur, st, opts.leaseMs)) return nullptr;  // held by a live owner

    // Stale: take over generation cur.token, only as holder of its succession right.
    TestGate("stale");
    SuccessionState s;
    Succession r = AcquireSuccession(p, cur.token, opts.leaseMs, me, &s);
    if (r == Succession::Busy) return nullptr;  // a live taker (or the owner releasing) is at it
    if (r == Succession::Vanished) continue;
    TestGate("right");
    OwnerRecord again;
    struct stat st2 {};
    if (!ReadRecord(path, &again, &st2)) {
      s.generationGone = true;  // whatever we do now, the lock no longer carries cur.token
      claimed = LinkExclusive(tmp, path);
    } else if (again.token != cur.token) {
      s.generationGone = true;
      continue;  // replaced meanwhile: look again
    } else if (!RecordIsStale(again, st2, opts.leaseMs)) {
      return nullptr;  // its owner refreshed it: alive after all (the chain stays)
    } else {
      UnlinkIfPresent(path);  // safe: only the holder of R(token) removes a lock carrying token
      s.generationGone = true;
      claimed = LinkExclusive(tmp, path);
    }
  }
  if (!claimed) return nullptr;

  // The lock path now holds our inode; drop the temp name, make both changes durable.
  UnlinkIfPresent(tmp.path);
  tmp.path.clear();
  FsyncDir(p.dir);
  auto claim = std::make_shared<Claim>(path, me, tmp.ReleaseFd(), opts.leaseMs);
  Claim::StartHeartbeat(claim, opts.heartbeatMs);
  return claim;
}

bool IsStale(const std::string& path, int64_t leaseMs) {
  OwnerRecord rec;
  struct stat st {};
  if (!ReadRecord(path, &rec, &st)) return false;
  return RecordIsStale(rec, st, leaseMs);
}

}  // namespace hierimpute::locks
