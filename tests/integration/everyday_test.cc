// Integration: everyday use (issue 21), as a new user tries it, with real
// cells as root and as uid 65534: the README's first example verbatim, the
// host preset's userland, TLS roots for a real HTTPS server behind the
// proxy, a spec found in the project and the trust it needs (and the attack
// it stops: a cell writing the next launch's cell.json), logDir made when
// missing, a packed cell given as --spec, --dry-run, and a worktree that
// would be the whole home.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/cell_fixture.h"
#include "testing/runfiles.h"
#include "testing/status_matchers.h"

namespace cell::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Optional;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The first `cell run` command of the README's "Using it" section, its
// continuation lines joined.
std::string ReadmeFirstRunLine() {
  absl::StatusOr<std::string> readme = ReadRunfile("README.md");
  if (!readme.ok()) return "";
  const std::string& text = *readme;
  const size_t section = text.find("\n## Using it\n");
  if (section == std::string::npos) return "";
  std::string line;
  bool in_command = false;
  for (absl::string_view raw :
       absl::StrSplit(absl::string_view(text).substr(section), '\n')) {
    absl::string_view stripped = absl::StripAsciiWhitespace(raw);
    if (!in_command) {
      if (!absl::StartsWith(stripped, "cell run ")) continue;
      in_command = true;
    }
    const bool continued = absl::EndsWith(stripped, "\\");
    absl::StrAppend(&line, absl::StripSuffix(stripped, "\\"), " ");
    if (!continued) break;
  }
  return std::string(absl::StripAsciiWhitespace(line));
}

SubprocessOptions ServerOptions() {
  SubprocessOptions options;
  options.timeout = absl::Seconds(120);
  return options;
}

class EverydayTest : public CellFixture {
 protected:
  // Owned by the test user, so that its cells can write there.
  void MakeUserDir(const std::string& relative) {
    ASSERT_EQ(mkdir(Path(relative).c_str(), 0755), 0) << relative;
    ASSERT_EQ(chown(Path(relative).c_str(), uid(), gid()), 0);
  }

  void WriteUserFile(const std::string& relative, const std::string& text) {
    std::ofstream(Path(relative)) << text;
    ASSERT_EQ(chown(Path(relative).c_str(), uid(), gid()), 0);
  }

  // `cell ARGS` as the test user from Path(`cwd`), with `env` added.
  absl::StatusOr<SubprocessResult> CellIn(
      const std::string& cwd, const std::vector<std::string>& args,
      const std::vector<std::string>& env = {}) {
    SubprocessOptions options = Options();
    options.cwd = Path(cwd);
    options.env->insert(options.env->end(), env.begin(), env.end());
    return RunSubprocess(CellArgv(args), options);
  }

  // A shell line as the test user, with this test's cell first on PATH.
  absl::StatusOr<SubprocessResult> ShellIn(const std::string& cwd,
                                           const std::string& line) {
    SubprocessOptions options = Options();
    options.cwd = Path(cwd);
    for (std::string& entry : *options.env) {
      if (absl::StartsWith(entry, "PATH=")) {
        entry = absl::StrCat("PATH=", dir_->path(), ":/usr/bin:/bin");
      }
    }
    return RunSubprocess(AsTestUser({"/bin/bash", "-c", line}), options);
  }
};

TEST_P(EverydayTest, ReadmeFirstExampleWorksVerbatim) {
  const std::string line = ReadmeFirstRunLine();
  ASSERT_THAT(line, HasSubstr("cell run")) << "no `cell run` in README";
  // A C project as the README's example assumes: make, cc and awk (Debian
  // reaches awk and cc through /etc/alternatives).
  WriteUserFile("wt/hello.c",
                "#include <stdio.h>\n"
                "int main(void) { puts(\"hello from a cell\"); return 0; }\n");
  WriteUserFile("wt/Makefile",
                "test:\n"
                "\tcc -o hello hello.c\n"
                "\t./hello | awk '{ print \"checked:\", $$0 }'\n");
  ASSERT_OK_AND_ASSIGN(SubprocessResult run, ShellIn("wt", line));
  EXPECT_THAT(run.exit_code, Optional(0)) << line << "\n"
                                          << run.stdout_text << run.stderr_text;
  EXPECT_THAT(run.stdout_text, HasSubstr("checked: hello from a cell"));
  EXPECT_THAT(JobDirs(), ::testing::IsEmpty());
}

TEST_P(EverydayTest, HostPresetGivesAWorkingUserland) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      CellIn("",
             {"run", "--worktree=wt", "--no-nix", "--network=none",
              "--preset=host", "--", "/bin/sh", "-c",
              "for p in cc awk vi make curl; do command -v $p || echo "
              "missing-$p; done; test -s /etc/ssl/certs/ca-certificates.crt "
              "&& echo certs; ls /etc/ssl; echo PATH=$PATH"}));
  ASSERT_THAT(run.exit_code, Optional(0)) << run.stderr_text;
  EXPECT_THAT(run.stdout_text,
              AllOf(Not(HasSubstr("missing-")), HasSubstr("certs\n"),
                    HasSubstr("PATH=/usr/local/bin:/usr/bin")));
  // The private keys beside the certificates stay on the host.
  EXPECT_THAT(run.stdout_text, Not(HasSubstr("private")));
}

TEST_P(EverydayTest, TlsRootsLetCurlTrustAServerBehindTheProxy) {
  // A CA and a certificate for 127.0.0.1, made here.
  const std::string ca = Path("ca.pem");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult made,
      RunSubprocess(
          {"/bin/sh", "-c",
           absl::StrCat(
               "set -e; cd ", dir_->path(),
               "; openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
               "-subj /CN=cell-test-ca -keyout ca.key -out ca.pem "
               "-addext basicConstraints=critical,CA:TRUE 2>/dev/null;"
               "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 "
               "-keyout server.key -out server.csr 2>/dev/null;"
               "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext;"
               "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
               "-CAcreateserial -days 2 -extfile san.ext -out server.pem "
               "2>/dev/null; chmod 644 ca.pem")}));
  ASSERT_THAT(made.exit_code, Optional(0))
      << "openssl (setup.sh installs it): " << made.stderr_text;
  const std::string port_file = Path("port");
  ASSERT_OK_AND_ASSIGN(
      Subprocess server,
      Subprocess::Start(
          {"/usr/bin/python3", "-c",
           absl::StrCat(
               "import http.server, ssl\n"
               "class H(http.server.BaseHTTPRequestHandler):\n"
               "  def do_GET(self):\n"
               "    body = b'over tls\\n'\n"
               "    self.send_response(200)\n"
               "    self.send_header('Content-Length', str(len(body)))\n"
               "    self.end_headers(); self.wfile.write(body)\n"
               "  def log_message(self, *a): pass\n"
               "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
               "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
               "c.load_cert_chain('",
               Path("server.pem"), "', '", Path("server.key"),
               "')\n"
               "s.socket = c.wrap_socket(s.socket, server_side=True)\n"
               "open('",
               port_file, ".new', 'w').write(str(s.server_address[1]))\n",
               "import os; os.rename('", port_file, ".new', '", port_file,
               "')\n"
               "s.serve_forever()\n")},
          ServerOptions()));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::string port;
  while (absl::Now() < deadline && (port = ReadFile(port_file)).empty()) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_FALSE(port.empty()) << "the HTTPS server did not start";
  std::ofstream(Path("filter")) << "^127\\.0\\.0\\.1$\n";
  const std::string url = absl::StrCat("https://127.0.0.1:", port, "/");
  const auto curl = [&](const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"run", "--worktree=wt", "--no-nix",
                                     "--preset=host", "--filter=filter"};
    args.insert(args.end(), flags.begin(), flags.end());
    // no_proxy names 127.0.0.1 (the cell's own loopback); this server is
    // the host's, reached through the proxy.
    for (const char* word :
         {"--", "curl", "-sS", "--noproxy", "", "--max-time", "20"}) {
      args.push_back(word);
    }
    args.push_back(url);
    return CellIn("", args);
  };
  ASSERT_OK_AND_ASSIGN(SubprocessResult trusted,
                       curl({absl::StrCat("--tls-roots=", ca)}));
  EXPECT_THAT(trusted.exit_code, Optional(0)) << trusted.stderr_text;
  EXPECT_EQ(trusted.stdout_text, "over tls\n");
  // Without it, the host's bundle does not know this CA: curl's exit 60.
  ASSERT_OK_AND_ASSIGN(SubprocessResult unknown, curl({}));
  EXPECT_THAT(unknown.exit_code, Optional(60)) << unknown.stderr_text;
  // Bare --tls-roots: the host's own bundle, named for every client.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult host,
      CellIn("", {"run", "--worktree=wt", "--no-nix", "--network=none",
                  "--preset=host", "--tls-roots", "--", "/bin/sh", "-c",
                  "cmp \"$SSL_CERT_FILE\" /etc/ssl/certs/ca-certificates.crt "
                  "&& echo same $CURL_CA_BUNDLE $GIT_SSL_CAINFO"}));
  EXPECT_THAT(host.exit_code, Optional(0)) << host.stderr_text;
  EXPECT_EQ(host.stdout_text,
            "same /etc/cell-tls-roots.pem /etc/cell-tls-roots.pem\n");
  kill(server.pid(), SIGKILL);
}

// The attack: an agent writes cell.json into its worktree (here a
// directory of the project the user runs `cell run` in later), or the
// filter a trusted one names there. The next launch from there must not
// use them: found specs need the user's trust, and trust is for exact
// bytes, the project files the spec names included.
TEST_P(EverydayTest, AFoundSpecIsUsedOnlyWhileTrustedSoACellCannotWriteIt) {
  MakeUserDir("project");
  MakeUserDir("project/.git");
  MakeUserDir("project/src");
  MakeUserDir("config");
  WriteUserFile("project/filter.txt", "^example\\.com$\n");
  WriteUserFile("project/cell.json",
                "{\"version\": 1, \"worktreePath\": \".\", \"nix\": false,\n"
                " \"tinyproxyFilter\": \"filter.txt\", \"presets\": "
                "[\"host\"],\n"
                " \"command\": [\"/bin/sh\", \"-c\", \"echo spec-ran\"]}\n");
  const std::vector<std::string> env = {
      absl::StrCat("XDG_CONFIG_HOME=", Path("config"))};
  // Not trusted yet: refused, naming the file and the fix.
  ASSERT_OK_AND_ASSIGN(SubprocessResult first,
                       CellIn("project/src", {"run"}, env));
  EXPECT_THAT(first.exit_code, Optional(125));
  EXPECT_THAT(first.stderr_text,
              AllOf(HasSubstr(Path("project/cell.json")),
                    HasSubstr("not trusted"), HasSubstr("cell trust")));
  ASSERT_OK_AND_ASSIGN(SubprocessResult trust,
                       CellIn("project/src", {"trust"}, env));
  ASSERT_THAT(trust.exit_code, Optional(0)) << trust.stderr_text;
  ASSERT_OK_AND_ASSIGN(SubprocessResult used,
                       CellIn("project/src", {"run"}, env));
  EXPECT_THAT(used.exit_code, Optional(0)) << used.stderr_text;
  EXPECT_EQ(used.stdout_text, "spec-ran\n");
  EXPECT_THAT(used.stderr_text,
              HasSubstr(absl::StrCat("using ", Path("project/cell.json"))));
  // The filter used is the trusted copy, not the project file read again
  // after the check (a race a leftover process could win).
  ASSERT_OK_AND_ASSIGN(SubprocessResult checked,
                       CellIn("project/src", {"check-spec"}, env));
  EXPECT_THAT(checked.stdout_text,
              HasSubstr(absl::StrCat("\"tinyproxyFilter\": \"",
                                     Path("config/cell/trusted/"))));
  // A cell started from the found spec cannot change it, or its filter.
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult inside,
      CellIn("project",
             {"run", "--", "/bin/sh", "-c",
              "echo x >> cell.json && echo wrote; echo x >> filter.txt && "
              "echo wrote"},
             env));
  EXPECT_EQ(inside.stdout_text, "") << inside.stderr_text;
  // The agent, in a cell over the project from another spec, rewrites the
  // trusted spec, plants a nearer one, or widens the filter it names.
  std::ofstream(Path("agent.json"))
      << "{\"version\": 1, \"worktreePath\": \".\", \"nix\": false, "
         "\"network\": {\"mode\": \"none\"}, \"presets\": [\"host\"]}\n";
  const std::string evil =
      "{\"version\": 1, \"worktreePath\": \".\", \"nix\": false,\n"
      " \"network\": {\"mode\": \"none\"}, \"presets\": [\"host\"],\n"
      " \"command\": [\"/bin/sh\", \"-c\", \"echo agent-ran\"]}\n";
  const std::vector<std::pair<std::string, std::string>> attacks = {
      {"cp cell.json cell.orig; printf '%s' '" + evil + "' > cell.json",
       "project"},
      {"cp cell.orig cell.json; printf '%s' '" + evil + "' > src/cell.json",
       "project/src"},
      {"rm src/cell.json; echo '.*' > filter.txt", "project"},
  };
  for (const auto& [script, cwd] : attacks) {
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult agent,
        CellIn("project",
               {"run", absl::StrCat("--spec=", Path("agent.json")), "--",
                "/bin/sh", "-c", script},
               env));
    ASSERT_THAT(agent.exit_code, Optional(0)) << script << agent.stderr_text;
    ASSERT_OK_AND_ASSIGN(SubprocessResult next, CellIn(cwd, {"run"}, env));
    EXPECT_THAT(next.exit_code, Optional(125)) << script;
    EXPECT_THAT(next.stdout_text, Not(HasSubstr("ran"))) << script;
    EXPECT_THAT(next.stderr_text, HasSubstr("not trusted")) << script;
  }
}

TEST_P(EverydayTest, LogDirIsMadeWhenMissing) {
  MakeUserDir("logs");
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      CellIn("", {"run", "--worktree=wt", "--no-nix", "--preset=host",
                  "--log-dir=logs/today/run", "--", "/bin/true"}));
  ASSERT_THAT(run.exit_code, Optional(0)) << run.stderr_text;
  struct stat info;
  ASSERT_EQ(stat(Path("logs/today/run").c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  EXPECT_EQ(info.st_uid, uid());
  // check-spec and --dry-run create nothing.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"check-spec", "--worktree=wt", "--no-nix", "--log-dir=logs/x"},
           {"run", "--dry-run", "--worktree=wt", "--no-nix", "--log-dir=logs/x",
            "--", "true"}}) {
    ASSERT_OK_AND_ASSIGN(SubprocessResult checked, CellIn("", args));
    EXPECT_THAT(checked.exit_code, Optional(0)) << checked.stderr_text;
    EXPECT_THAT(checked.stdout_text, HasSubstr(Path("logs/x")));
    EXPECT_NE(access(Path("logs/x").c_str(), F_OK), 0) << args[0];
  }
}

TEST_P(EverydayTest, DryRunPrintsThePlanAndLaunchesNothing) {
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      CellIn("", {"run", "--dry-run", "--worktree=wt", "--no-nix",
                  "--preset=host", "--pid-namespace", "--tmpfs=/scratch",
                  "--symlink=/usr/bin/env:/opt/env", "--env=A=1",
                  "--rlimit=nofile=64", "--", "touch", "ran"}));
  ASSERT_THAT(run.exit_code, Optional(0)) << run.stderr_text;
  EXPECT_THAT(
      run.stdout_text,
      AllOf(
          HasSubstr("nothing was launched"), HasSubstr("command:    touch ran"),
          HasSubstr(absl::StrCat(Path("wt"), " -> /home/cell/worktree")),
          HasSubstr("PID namespace own"),
          HasSubstr("read-only bind /usr at /usr"),
          HasSubstr("symlink /bin -> usr/bin"), HasSubstr("tmpfs at /scratch"),
          HasSubstr("symlink /opt/env -> /usr/bin/env"), HasSubstr("  A=1\n"),
          HasSubstr("nofile=64")));
  EXPECT_NE(access(Path("wt/ran").c_str(), F_OK), 0);
  EXPECT_THAT(JobDirs(), ::testing::IsEmpty());
}

TEST_P(EverydayTest, APackedCellGivenAsSpecIsRead) {
  const std::string spec = Path("packed.json");
  std::ofstream(spec) << "{\"version\": 1, \"worktreePath\": \".\", "
                         "\"nix\": false, \"network\": {\"mode\": \"none\"}, "
                         "\"presets\": [\"host\"], \"command\": [\"echo\", "
                         "\"packed\"]}\n";
  ASSERT_OK_AND_ASSIGN(SubprocessResult packed,
                       CellIn("", {"pack", absl::StrCat("--spec=", spec),
                                   "--output=wt/mycell"}));
  ASSERT_THAT(packed.exit_code, Optional(0)) << packed.stderr_text;
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult run,
      CellIn("wt", {"run", absl::StrCat("--spec=", Path("wt/mycell"))}));
  EXPECT_THAT(run.exit_code, Optional(0)) << run.stderr_text;
  EXPECT_EQ(run.stdout_text, "packed\n");
  // A program that is not a packed cell says so.
  ASSERT_OK_AND_ASSIGN(SubprocessResult plain,
                       CellIn("wt", {"check-spec", "--spec=/bin/true"}));
  EXPECT_THAT(plain.exit_code, Optional(2));
  EXPECT_THAT(plain.stderr_text, HasSubstr("not a packed cell"));
}

TEST_P(EverydayTest, ARelativeWorktreeThatIsTheHomeIsRefused) {
  MakeUserDir("home");
  const std::vector<std::string> env = {absl::StrCat("HOME=", Path("home"))};
  ASSERT_OK_AND_ASSIGN(
      SubprocessResult refused,
      CellIn("home",
             {"run", "--worktree=.", "--no-nix", "--preset=host", "--", "true"},
             env));
  EXPECT_THAT(refused.exit_code, Optional(125));
  EXPECT_THAT(refused.stderr_text,
              AllOf(HasSubstr("is the home directory"), HasSubstr(".ssh"),
                    HasSubstr(absl::StrCat("--worktree=", Path("home")))));
  ASSERT_OK_AND_ASSIGN(SubprocessResult meant,
                       CellIn("home",
                              {"run", absl::StrCat("--worktree=", Path("home")),
                               "--no-nix", "--preset=host", "--", "true"},
                              env));
  EXPECT_THAT(meant.exit_code, Optional(0)) << meant.stderr_text;
}

TEST_P(EverydayTest, APersistentHomeKeepsFilesBetweenRuns) {
  MakeUserDir("cellhome");
  for (const char* step : {"echo kept > ~/note", "cat ~/note"}) {
    ASSERT_OK_AND_ASSIGN(
        SubprocessResult run,
        CellIn("", {"run", "--worktree=wt", "--no-nix", "--network=none",
                    "--preset=host", "--bind=cellhome:/home/cell", "--",
                    "/bin/sh", "-c", step}));
    ASSERT_THAT(run.exit_code, Optional(0)) << step << run.stderr_text;
    if (absl::StrContains(step, "cat")) {
      EXPECT_EQ(run.stdout_text, "kept\n");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Users, EverydayTest,
                         ::testing::Values(TestUser::kRoot, TestUser::kNobody),
                         TestUserName);

}  // namespace
}  // namespace cell::testing
