// Passphrases and recovery keys for the command line: the first line of a file, or typed on the
// terminal with echo off (fs/cli/passphrase.h).
#include "fs/cli/passphrase.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

namespace phrfs::fs {
namespace {

// The terminal whose echo is off, for the signal handler to restore. Only one prompt runs at a
// time (main thread), so plain globals suffice; sig_atomic_t makes the flag safe to read there.
int g_tty_fd = -1;
struct termios g_saved_termios;
volatile sig_atomic_t g_echo_off = 0;

constexpr int kRestoreSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

extern "C" void RestoreTerminalAndReraise(int sig) {
  if (g_echo_off) {
    tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved_termios);
    (void)!write(g_tty_fd, "\n", 1);
    g_echo_off = 0;
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

// Reads one line (without its ending) from `fd` byte by byte, so that nothing past the line is
// consumed and no stdio buffer keeps a copy of the secret.
Result<Passphrase> ReadLineFromFd(int fd, const std::string& what) {
  SecureBytes buffer(kMaxPassphraseSize + 1);
  size_t length = 0;
  for (;;) {
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "read " + what);
    if (n == 0 || c == '\n') break;
    if (length == kMaxPassphraseSize) {
      return Status::InvalidArgument(what + ": passphrase longer than " +
                                     std::to_string(kMaxPassphraseSize) + " bytes");
    }
    buffer[length++] = static_cast<uint8_t>(c);
    OPENSSL_cleanse(&c, sizeof(c));
  }
  if (length > 0 && buffer[length - 1] == '\r') --length;
  SecureBytes line(buffer.data(), length);
  return Passphrase(std::move(line));
}

// Echo off on the terminal while a secret is typed; restored by End(), the destructor, and the
// fatal-signal handler installed meanwhile.
class EchoOff {
 public:
  explicit EchoOff(int tty_fd) : tty_fd_(tty_fd) {}
  ~EchoOff() { End(); }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

  Status Begin() {
    struct termios current;
    if (tcgetattr(tty_fd_, &current) != 0) return Status::FromErrno(errno, "read terminal settings");
    g_tty_fd = tty_fd_;
    g_saved_termios = current;
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = RestoreTerminalAndReraise;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kRestoreSignals); ++i) {
      sigaction(kRestoreSignals[i], &action, &old_actions_[i]);
    }
    handlers_installed_ = true;
    struct termios silent = current;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    silent.c_lflag |= ICANON;
    g_echo_off = 1;
    if (tcsetattr(tty_fd_, TCSAFLUSH, &silent) != 0) {
      int err = errno;
      End();
      return Status::FromErrno(err, "turn off terminal echo");
    }
    return Status::Ok();
  }

  void End() {
    if (g_echo_off) {
      g_echo_off = 0;
      tcsetattr(tty_fd_, TCSAFLUSH, &g_saved_termios);
    }
    if (handlers_installed_) {
      for (size_t i = 0; i < std::size(kRestoreSignals); ++i) {
        sigaction(kRestoreSignals[i], &old_actions_[i], nullptr);
      }
      handlers_installed_ = false;
    }
  }

 private:
  int tty_fd_;
  bool handlers_installed_ = false;
  struct sigaction old_actions_[std::size(kRestoreSignals)] = {};
};

Result<Passphrase> AskOnTerminal(int tty_fd, const std::string& prompt) {
  (void)!write(tty_fd, prompt.data(), prompt.size());
  EchoOff echo_off(tty_fd);
  PHRFS_RETURN_IF_ERROR(echo_off.Begin());
  auto line = ReadLineFromFd(tty_fd, "terminal");
  echo_off.End();
  (void)!write(tty_fd, "\n", 1);  // the user's Enter was not echoed
  return line;
}

Result<Passphrase> ReadFromTerminal(const PassphraseRequest& request) {
  int tty_fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty_fd < 0) {
    return Status::FromErrno(errno, "no terminal to ask for the passphrase (use --passfile)");
  }
  struct CloseFd {
    int fd;
    ~CloseFd() { close(fd); }
  } closer{tty_fd};

  PHRFS_ASSIGN_OR_RETURN(Passphrase first, AskOnTerminal(tty_fd, request.prompt));
  if (first.empty()) return Status::InvalidArgument("empty passphrase");
  if (request.confirm == Confirm::kTwice) {
    PHRFS_ASSIGN_OR_RETURN(Passphrase second, AskOnTerminal(tty_fd, "Repeat the passphrase: "));
    std::string_view a = first.view(), b = second.view();
    if (a.size() != b.size() || CRYPTO_memcmp(a.data(), b.data(), a.size()) != 0) {
      return Status::InvalidArgument("the passphrases do not match");
    }
  }
  return first;
}

}  // namespace

Result<Passphrase> ReadFirstLine(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Status::FromErrno(errno, "cannot open " + path);
  auto line = ReadLineFromFd(fd, path);
  close(fd);
  if (!line.ok()) return line.status();
  if (line->empty()) return Status::InvalidArgument(path + " is empty (the passphrase is its first line)");
  return line;
}

Result<Passphrase> ReadPassphrase(const PassphraseRequest& request) {
  if (!request.passfile.empty()) return ReadFirstLine(request.passfile);
  return ReadFromTerminal(request);
}

}  // namespace phrfs::fs
