// POSIX lock files on a shared filesystem: one claim per unit of work, recoverable after SIGKILL.
// Pure C++ (no N-API): lockfile_binding.cc exposes it to JavaScript. The protocol is described in
// docs/locks.md; the short version:
//   claim    write the owner record to a unique temp file, fsync, link() it to the lock path
//            (EEXIST = held; on NFS a failed link() whose temp file now has 2 links succeeded), fsync folder
//   stale    mtime (last heartbeat) older than the lease, or owner provably dead on this machine
//   takeover only the holder of the "succession right" of a generation (token T) may unlink a lock
//            whose record carries T; the right is won by creating `.<name>.takeover.<T>` exclusively,
//            and passes to `.<name>.takeover.<h>` when its holder h is itself stale (a chain, never a
//            rename or an unlink of someone else's file)
//   release  the owner takes the succession right of its own token first, so a release never races
//            a takeover into deleting someone else's lock
//   heartbeat a detached std::thread refreshes the mtime through the lock's own file descriptor after
//            checking the token at the path; it never touches another owner's file
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace hierimpute::locks {

// A failed system call or an unusable lock file; the message names the path and the errno text.
class LockError : public std::runtime_error {
 public:
  explicit LockError(const std::string& what) : std::runtime_error(what) {}
};

// The owner record stored in a lock file (and in takeover files).
struct OwnerRecord {
  std::string host;         // gethostname()
  int64_t pid = 0;          // getpid() of the claiming process
  std::string jobId;        // SLURM_JOB_ID or caller-given; may be empty
  int64_t rank = -1;        // MPI rank, -1 = not given
  int64_t createdAtMs = 0;  // CLOCK_REALTIME at claim, ms since the epoch
  std::string token;        // 32 hex chars, random, unique to this claim
  std::string bootId;       // /proc/sys/kernel/random/boot_id (Linux), "" elsewhere
  std::string pidNs;        // readlink /proc/self/ns/pid (Linux), "" elsewhere
};

std::string SerializeRecord(const OwnerRecord& rec);
// False when text is not a complete record (missing magic line, token, host or pid).
bool ParseRecord(const std::string& text, OwnerRecord* rec);

// A record for this process with a fresh random token.
OwnerRecord MakeOwnRecord(const std::string& jobId, int64_t rank);
std::string NewToken();

// Reads and parses the record at path. Returns false when the file does not exist; throws
// LockError on other errors or when the file is not a hierimpute lock file. st receives its stat.
bool ReadRecord(const std::string& path, OwnerRecord* rec, struct stat* st);

// True when the owner is on this machine (same host, boot and pid namespace) and its pid is gone.
bool OwnerProvablyDead(const OwnerRecord& rec);
// Stale = owner provably dead, or mtime older than leaseMs (by this host's clock).
bool RecordIsStale(const OwnerRecord& rec, const struct stat& st, int64_t leaseMs);

// One held claim. Shared between the JavaScript handle and the heartbeat thread; the file
// descriptor (the lock's own inode) is closed when the last of them lets go.
class Claim {
 public:
  Claim(std::string path, OwnerRecord owner, int fd, int64_t leaseMs);
  ~Claim();
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;

  const std::string& path() const { return path_; }
  const OwnerRecord& owner() const { return owner_; }

  // Starts the detached heartbeat thread (heartbeatMs > 0). Call once.
  static void StartHeartbeat(const std::shared_ptr<Claim>& self, int64_t heartbeatMs);
  // Stops the heartbeat; returns at once (the thread exits at its next wake-up, touching nothing).
  // No refresh lands after it returns: the thread calls futimens only while holding mu_, right after
  // re-checking stop_, and this sets stop_ under mu_. So it needs no join to be synchronous.
  void StopHeartbeat();
  // False once released, once the heartbeat found the lock gone or replaced, or when the record at
  // the path now carries another token. Reads the file (a short synchronous call).
  bool StillOwned();
  // True when the heartbeat thread saw the lock was no longer ours.
  bool HeartbeatLost() const { return lost_.load(); }
  // Number of mtime refreshes done by the heartbeat thread.
  int64_t Beats() const { return beats_.load(); }
  // Removes the lock if it is still ours. Returns true when this call removed it. Idempotent.
  bool Release();

 private:
  void HeartbeatLoop(int64_t heartbeatMs);

  std::string path_;
  OwnerRecord owner_;
  int fd_;
  int64_t leaseMs_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool released_ = false;
  std::atomic<bool> lost_{false};
  std::atomic<int64_t> beats_{0};
};

struct ClaimOptions {
  int64_t leaseMs = 120000;
  int64_t heartbeatMs = 20000;  // 0 = no heartbeat
  std::string jobId;
  int64_t rank = -1;
};

// Claims path, taking over a stale claim. Returns null when a live owner (or a live taker) holds it.
std::shared_ptr<Claim> TryClaim(const std::string& path, const ClaimOptions& opts);
// True when a lock exists at path and is stale under leaseMs; false when none exists.
bool IsStale(const std::string& path, int64_t leaseMs);

}  // namespace hierimpute::locks
