#include "testing/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "testing/wait.h"

extern char** environ;

namespace choreo::testing {

absl::StatusOr<ChildProcess> ChildProcess::Start(const Options& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("ChildProcess: empty argv");
  // Everything the child needs is built before fork: after it only async-signal-safe calls.
  std::vector<char*> argv;
  for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.emplace_back(*e);
  env_storage.insert(env_storage.end(), options.env.begin(), options.env.end());
  std::vector<char*> envp;
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  int log_fd = -1;
  if (!options.log_path.empty()) {
    log_fd = open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot open ", options.log_path, ": ", std::strerror(errno)));
    }
  }
  // A pipe whose write end closes on exec tells the parent whether exec succeeded.
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    if (log_fd >= 0) close(log_fd);
    return absl::UnavailableError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    if (log_fd >= 0) close(log_fd);
    close(exec_pipe[0]);
    close(exec_pipe[1]);
    return absl::UnavailableError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    setpgid(0, 0);  // own process group: a terminal's Ctrl-C reaches only the test
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (log_fd >= 0) {
      dup2(log_fd, STDOUT_FILENO);
      dup2(log_fd, STDERR_FILENO);
    }
    execvpe(argv[0], argv.data(), envp.data());
    const int error = errno;
    [[maybe_unused]] ssize_t n = write(exec_pipe[1], &error, sizeof error);
    _exit(127);
  }
  if (log_fd >= 0) close(log_fd);
  close(exec_pipe[1]);
  int exec_error = 0;
  ssize_t n;
  do {
    n = read(exec_pipe[0], &exec_error, sizeof exec_error);
  } while (n < 0 && errno == EINTR);
  close(exec_pipe[0]);
  ChildProcess child(pid);
  if (n > 0) {
    child.Reap(/*block=*/true);
    return absl::NotFoundError(absl::StrCat("cannot run ", options.argv[0], ": ",
                                            std::strerror(exec_error)));
  }
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), exit_status_(other.exit_status_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    static_cast<void>(Stop());  // the old child's exit status is of no interest
    pid_ = std::exchange(other.pid_, -1);
    exit_status_ = other.exit_status_;
  }
  return *this;
}

ChildProcess::~ChildProcess() { static_cast<void>(Stop()); }

bool ChildProcess::Reap(bool block) {
  if (pid_ < 0 || exit_status_) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  if (r < 0) {
    exit_status_ = -1;  // not our child any more (reaped elsewhere)
    return true;
  }
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

bool ChildProcess::running() { return pid_ >= 0 && !Reap(/*block=*/false); }

void ChildProcess::Signal(int signal) {
  if (running()) kill(pid_, signal);
}

absl::StatusOr<int> ChildProcess::Wait(absl::Duration timeout) {
  if (pid_ < 0) return absl::FailedPreconditionError("no child process");
  if (!WaitUntil([this] { return Reap(/*block=*/false); }, timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("pid ", pid_, " still running after ", absl::FormatDuration(timeout)));
  }
  return *exit_status_;
}

absl::StatusOr<int> ChildProcess::Stop(absl::Duration grace) noexcept {
  if (pid_ < 0) return absl::FailedPreconditionError("no child process");
  Signal(SIGTERM);
  absl::StatusOr<int> status = Wait(grace);
  if (!status.ok()) {
    Signal(SIGKILL);
    Reap(/*block=*/true);
    return *exit_status_;
  }
  return status;
}

}  // namespace choreo::testing
