# Flags and environment: a bad flag or value exits 2 with exactly one line on stderr that
# names it, before anything connects; -V and -h exit 0.
require_relative "helper"

class TestFlags < Integration::Test
  # Nothing listens here: a winch that wrongly accepted its flags cannot do any harm.
  DEAD_URL = "redis://127.0.0.1:1/0"

  # Runs winch to its exit (killed after +timeout+); returns [stdout, stderr, status].
  def run_winch(args, env: {}, timeout: 5 * Integration::SLOW)
    out_r, out_w = IO.pipe
    err_r, err_w = IO.pipe
    pid = Process.spawn(Integration.clean_env(DEAD_URL).merge(env), Integration.winch_path, *args,
      out: out_w, err: err_w, in: File::NULL, chdir: Harness.tmpdir)
    out_w.close
    err_w.close
    readers = [Thread.new { out_r.read }, Thread.new { err_r.read }]
    status = nil
    Harness.wait_until(timeout, interval: 0.02) { status = Process.waitpid2(pid, Process::WNOHANG)&.last }
    unless status
      Process.kill("KILL", pid)
      Process.waitpid(pid)
      flunk "winch #{args.inspect} still running after #{timeout}s: it accepted what it should refuse"
    end
    out, err = readers.map(&:value)
    if Integration::ASAN && (out + err) =~ Integration::SANITIZER_REPORT
      flunk "sanitizer report from winch #{args.inspect}:\n#{err}"
    end
    [out, err, status]
  ensure
    [out_r, err_r].each { |io| io&.close unless io&.closed? }
  end

  # Exit 2, nothing on stdout, one line on stderr naming +flag+ (and the value, if given).
  def assert_refused(args, flag, value: nil, env: {})
    out, err, status = run_winch(args, env: env)
    what = "winch #{args.map(&:inspect).join(" ")}#{" with #{env.inspect}" unless env.empty?}"
    assert status.exited?, "#{what}: exits normally, not by a signal (#{status.inspect})"
    assert_equal 2, status.exitstatus, "#{what}: exit code (stderr: #{err.inspect})"
    assert_equal "", out, "#{what}: nothing on stdout"
    lines = err.lines
    assert_equal 1, lines.size, "#{what}: exactly one line on stderr, got #{err.inspect}"
    assert lines[0].end_with?("\n"), "#{what}: the line ends with a newline: #{err.inspect}"
    assert_match(/(?<![\w-])#{Regexp.escape(flag)}(?![\w-])/, lines[0], "#{what}: the line names #{flag}")
    assert_includes lines[0], value, "#{what}: the line shows the bad value" if value
  end

  def test_bad_concurrency
    assert_refused(%w[-c 0], "-c", value: "'0'")
    assert_refused(%w[-c abc], "-c", value: "'abc'")
    assert_refused(%w[-c 1x], "-c", value: "'1x'")
    assert_refused(%w[-c -3], "-c", value: "'-3'")
    assert_refused(%w[--concurrency 0], "--concurrency", value: "'0'")
  end

  def test_bad_queue
    assert_refused(["-q", ""], "-q")
    assert_refused(%w[-q a,x], "-q", value: "a,x")
    assert_refused(["-q", "default", "-q", ""], "-q")
  end

  def test_bad_sidekiq_generation
    assert_refused(%w[--sidekiq 9], "--sidekiq", value: "'9'")
    assert_refused(%w[--sidekiq 5], "--sidekiq", value: "'5'")
    assert_refused(%w[--sidekiq seven], "--sidekiq", value: "'seven'")
  end

  def test_bad_log_format
    assert_refused(%w[--log-format xml], "--log-format", value: "'xml'")
  end

  def test_config_file_refused
    File.write(File.join(Harness.tmpdir, "file"), ":concurrency: 5\n")
    assert_refused(%w[-C file], "-C", value: "file")
  end

  def test_unknown_flags
    assert_refused(%w[--nope], "--nope")
    assert_refused(%w[-x], "-x")
    assert_refused(%w[-c 2 --nope -c 3], "--nope")
  end

  def test_missing_values
    assert_refused(%w[-c], "-c")
    assert_refused(%w[-q], "-q")
    assert_refused(%w[-t], "-t")
    assert_refused(%w[--sidekiq], "--sidekiq")
    assert_refused(%w[--max-payload], "--max-payload")
  end

  def test_other_bad_values
    assert_refused(%w[-t soon], "-t", value: "'soon'")
    assert_refused(%w[--poll-interval 0], "--poll-interval", value: "'0'")
    assert_refused(%w[--unknown-class drop], "--unknown-class", value: "'drop'")
    assert_refused(%w[--max-payload 10], "--max-payload", value: "'10'")
    assert_refused(%w[--max-retries -1], "--max-retries", value: "'-1'")
    assert_refused(["--namespace", ""], "--namespace")
  end

  def test_bad_redis_url
    assert_refused([], "REDIS_URL", value: "http://x", env: {"REDIS_URL" => "http://x"})
    assert_refused([], "REDIS_URL", value: "99999",
      env: {"REDIS_URL" => "redis://127.0.0.1:99999/0"})
    assert_refused([], "REDIS_URL", value: "abc", env: {"REDIS_URL" => "redis://127.0.0.1:6379/abc"})
  end

  def test_redis_provider_naming_an_unset_variable
    assert_refused([], "REDIS_PROVIDER", value: "WINCH_TEST_NO_SUCH_URL",
      env: {"REDIS_PROVIDER" => "WINCH_TEST_NO_SUCH_URL", "WINCH_TEST_NO_SUCH_URL" => nil})
    assert_refused([], "REDIS_PROVIDER", value: "EMPTY_URL",
      env: {"REDIS_PROVIDER" => "EMPTY_URL", "EMPTY_URL" => ""})
  end

  def test_redis_provider_naming_a_bad_url
    assert_refused([], "MY_REDIS", value: "http://nope",
      env: {"REDIS_PROVIDER" => "MY_REDIS", "MY_REDIS" => "http://nope"})
  end

  def test_version
    out, err, status = run_winch(["-V"])
    assert status.success?, "winch -V exits 0: #{status.inspect} #{err}"
    assert_equal "", err
    assert_match(/\Awinch \d+\.\d+\.\d+\S* \(commit \S+\)\n\z/, out)
    out2, _, status2 = run_winch(["--version"])
    assert status2.success?
    assert_equal out, out2
  end

  def test_help
    out, err, status = run_winch(["-h"])
    assert status.success?, "winch -h exits 0: #{status.inspect} #{err}"
    assert_equal "", err
    assert_match(/\Ausage: winch/, out)
    %w[-c -q -t -g -e -C -v -V -h --sidekiq --poll-interval --log-format --logfile --namespace
      --unknown-class --max-retries --max-payload].each do |flag|
      assert_match(/(?<![\w-])#{Regexp.escape(flag)}(?![\w-])/, out, "-h lists #{flag}")
    end
  end

  # The positive side of REDIS_PROVIDER: the variable it names wins over REDIS_URL.
  def test_redis_provider_is_followed
    w, identity = start_winch("-c", "1",
      env: {"REDIS_URL" => DEAD_URL, "REDIS_PROVIDER" => "MY_REDIS", "MY_REDIS" => Harness.redis_url})
    assert w.alive?
    refute_nil identity
    jid = push_echo("replies", "via provider")
    assert_equal [jid, "via provider"], JSON.parse(wait_reply(jid))["args"]
  end
end
