// ISC license.
#include "inject/sendmail.h"

#include <string_view>

namespace qf::inject {

char const* const kSendmailUsage =
    "sendmail [ -t ] [ -i ] [ -f sender ] [ -F name ] [ -bm ] [ -oX ] [ -- ] [ recip ... ]";

namespace {

std::string refusal_for_mode(std::string_view m) {
  switch (m.empty() ? 0 : m[0]) {
    case 'm': return "";
    case 's': return "SMTP on standard input (-bs) is not supported yet: qmail-smtpd will serve it";
    case 'i': return "newaliases (-bi) is not supported: there is no aliases database "
                     "(use fastforward's newaliases)";
    case 'd': case 'D': return "daemon mode (-bd) is not supported: qmail-start runs the queue";
    default: return "mode -b" + std::string(m) + " is not supported";
  }
}

char const* const kQueueInterval =
    "a queue run interval (-qTIME) is not supported: qmail-send retries by itself";

}  // namespace

bool parse_sendmail(int argc, char const* const* argv, SendmailRequest* out) {
  *out = SendmailRequest{};
  std::string_view prog = argc > 0 && argv[0] ? argv[0] : "sendmail";
  if (size_t slash = prog.rfind('/'); slash != std::string_view::npos) prog.remove_prefix(slash + 1);
  if (prog == "mailq") out->list_queue = true;
  if (prog == "newaliases") out->refusal = refusal_for_mode("i");

  int i = 1;
  for (; i < argc; i++) {
    std::string_view a = argv[i];
    if (a == "--") {
      i++;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    for (size_t j = 1; j < a.size(); j++) {
      // An option's argument: the rest of this word, else the next word.
      auto value = [&](std::string* v) {
        if (j + 1 < a.size()) {
          *v = a.substr(j + 1);
        } else if (i + 1 < argc) {
          *v = argv[++i];
        } else {
          return false;
        }
        j = a.size();
        return true;
      };
      std::string v;
      switch (a[j]) {
        case 't': out->from_headers = true; break;
        // -i: a line with a lone '.' never ends the message here anyway
        case 'i': case 'm': case 'v': case 'x': case 'n': case 'G': case 'U': case 'E': case 'J':
          break;
        case 'f': case 'r':
          if (!value(&v)) return false;
          out->sender = v;
          break;
        case 'F':
          if (!value(&v)) return false;
          out->fullname = v;
          break;
        case 'b':
          if (!value(&v)) return false;
          if (v == "p")
            out->list_queue = true;
          else if (v == "v")
            out->verify = true;
          else
            out->refusal = refusal_for_mode(v);
          break;
        case 'q': {  // -q, -qRsite, -q30m...: the argument, if any, is attached
          std::string_view arg = a.substr(j + 1);
          j = a.size();
          if (arg.empty()) {
            out->flush = "";
          } else if (arg[0] == 'R') {
            std::string site(arg.substr(1));
            if (site.empty() && i + 1 < argc) site = argv[++i];
            if (site.empty()) return false;
            out->flush = site;
          } else if (arg[0] == 'S') {  // -qSsender: the mail of one sender
            std::string who(arg.substr(1));
            if (who.empty() && i + 1 < argc) who = argv[++i];
            if (who.empty()) return false;
            out->flush_sender = who;
          } else {
            out->refusal = arg[0] >= '0' && arg[0] <= '9'
                               ? kQueueInterval
                               : "queue runs by -q" + std::string(arg.substr(0, 1)) + " are not supported";
          }
          break;
        }
        case 'I':
          out->refusal = refusal_for_mode("i");
          break;
        // accepted and ignored, with an argument: -oX options, body type,
        // config file, DSN, envelope id, error mode, hop count, protocol...
        case 'o': case 'A': case 'B': case 'C': case 'L': case 'N': case 'O': case 'R': case 'V':
        case 'X': case 'e': case 'h': case 'p':
          if (!value(&v)) return false;
          break;
        default:
          return false;
      }
    }
  }
  for (; i < argc; i++) out->recipients.emplace_back(argv[i]);
  return true;
}

void sendmail_to_inject(SendmailRequest const& req, Options* opt, Identity* id) {
  opt->mode = req.from_headers ? Recipients::both : Recipients::args;
  opt->recipients = req.recipients;
  if (req.sender) {
    opt->sender = *req.sender;
    std::string_view s = *req.sender;
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    if (!s.empty()) {
      size_t at = s.rfind('@');
      id->user = std::string(s.substr(0, at));
      id->host.reset();
      if (at != std::string_view::npos && at + 1 < s.size()) id->host = std::string(s.substr(at + 1));
      id->name.reset();
    }
  }
  if (req.fullname && !req.fullname->empty()) id->name = *req.fullname;
}

}  // namespace qf::inject
