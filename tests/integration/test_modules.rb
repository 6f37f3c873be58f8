# Handler modules as a user builds and loads them: winch's `make install` staged into a tmp
# dir, handlers/examples/extract.c built against it with its own Makefile (pkg-config, then
# `cc -shared -fPIC`), the staged winch run with `-M extract.so` or `--handlers DIR`, and
# ExtractJob enqueued from Ruby. Then every module winch must refuse at start: exit 2, one
# error line naming the file, and no job fetched.
require_relative "helper"
require_relative "../support/module_build"
require "base64"
require "zlib"

class TestModules < Integration::Test
  EXAMPLE_DIR = File.join(Harness::ROOT, "handlers", "examples")
  EXTRACT_COLUMNS = %w[name amount id note].freeze

  # Test modules, each in its own file: nothing else in the suite defines them.
  NOSYM_C = <<~C
    /* A shared object that is not a winch module: no winch_module symbol. */
    int not_a_winch_module(void);
    int not_a_winch_module(void) { return 1; }
  C

  FUTURE_C = <<~C
    /* A module built for a winch API version that does not exist yet. */
    #include <winch/winch.h>
    static enum winch_result run(struct winch_job *job) { (void)job; return WINCH_OK; }
    static const struct winch_handler_def handlers[] = {{"FutureJob", run, NULL}, {NULL, NULL, NULL}};
    /* Written out by hand, not with WINCH_MODULE, to carry another api_version. */
    const struct winch_module winch_module = {999, "future", handlers, NULL, NULL, NULL};
  C

  # A second module that also claims ExtractJob, and one that claims a built-in class.
  def self.claiming_module(name, *classes)
    defs = classes.map { |c| %({"#{c}", run, NULL},) }.join(" ")
    <<~C
      #include <winch/winch.h>
      static enum winch_result run(struct winch_job *job) { (void)job; return WINCH_OK; }
      static const struct winch_handler_def handlers[] = {#{defs} {NULL, NULL, NULL}};
      WINCH_MODULE("#{name}", handlers, NULL, NULL, NULL);
    C
  end

  # One staged install and one build of each module for the whole file.
  def self.built
    @built ||= begin
      dir = File.join(Harness.tmpdir, "modules")
      stage = ModuleBuild::Stage.new(
        ModuleBuild.build_dir_for(Integration.winch_path, Harness::ROOT), File.join(dir, "stage"))
      make_out = stage.make(EXAMPLE_DIR, File.join(dir, "example"), "extract.c", "Makefile")
      mods = File.join(dir, "src")
      {
        stage: stage,
        make_out: make_out,
        extract: File.join(dir, "example", "extract.so"),
        nosym: stage.compile_source(mods, "nosym", NOSYM_C),
        future: stage.compile_source(mods, "future", FUTURE_C),
        other_extract: stage.compile_source(mods, "other_extract",
          claiming_module("other_extract", "OtherJob", "ExtractJob")),
        noop: stage.compile_source(mods, "noop", claiming_module("noop", "Winch::Noop"))
      }
    end
  end

  def built
    self.class.built
  end

  def stage
    built[:stage]
  end

  def setup
    super
    @dir = File.join(Harness.tmpdir, "t-#{name}")
    FileUtils.mkdir_p(@dir)
  end

  # A copy of a built module in this test's dir, mode 0755, as an operator installs it.
  def install_module(key, dest_dir = @dir, name: File.basename(built[key]))
    FileUtils.mkdir_p(dest_dir)
    path = File.join(dest_dir, name)
    FileUtils.cp(built[key], path)
    File.chmod(0o755, path)
    path
  end

  # The staged winch with exactly these arguments and its libwinch in LD_LIBRARY_PATH.
  def spawn_staged(*args)
    w = Harness::Worker.new("winch", [stage.winch, *args.map(&:to_s)],
      Integration.clean_env(Harness.redis_url).merge(stage.run_env))
    Harness.workers << w
    w
  end

  def start_staged(*args)
    w = spawn_staged("-t", "1", "--beat-interval", "0.5", "--poll-interval", "0.5", *args)
    wait_registered(w)
    w
  end

  # A CSV with what the parser must handle: a UTF-8 BOM, CRLF line ends, quoted commas,
  # doubled quotes, a line break inside quotes, an empty field, a blank line, and a last
  # row with no line end. id and amount are numeric; name and note are text.
  CSV_TEXT = "\xEF\xBB\xBFid,name,amount,note\r\n" \
    "1,\"Smith, John\",12.50,plain\r\n" \
    "2,\"say \"\"hi\"\"\",-3,\"two\r\nlines\"\r\n" \
    "\r\n" \
    "3,Zoë,1e2,\r\n" \
    "4,\"\",0,\"a,b,\"\"c\"\"\""
  ROWS = [
    {"name" => "Smith, John", "amount" => "12.50", "id" => "1", "note" => "plain"},
    {"name" => "say \"hi\"", "amount" => "-3", "id" => "2", "note" => "two\r\nlines"},
    {"name" => "Zoë", "amount" => "1e2", "id" => "3", "note" => ""},
    {"name" => "", "amount" => "0", "id" => "4", "note" => "a,b,\"c\""}
  ].freeze
  AGGREGATES = {
    "amount" => {"sum" => 109.5, "min" => -3.0, "max" => 100.0},
    "id" => {"sum" => 10.0, "min" => 1.0, "max" => 4.0}
  }.freeze

  def write_csv(name = "in.csv", text = CSV_TEXT)
    path = File.join(@dir, name)
    File.binwrite(path, text)
    path
  end

  def push_without_retry(klass, args, **extra)
    h = job_hash(klass, args, **extra)
    h.delete("retry")
    lpush_raw(JSON.generate(h))
    h["jid"]
  end

  def summaries
    redis.lrange("queue:reports", 0, -1).reverse
  end

  # Checks the output file and the ExtractSummaryJob of job +jid+ that wrote it.
  def assert_extracted(jid, out, t0)
    raw = wait_for("the ExtractSummaryJob on queue:reports") { summaries.first }
    t1 = Time.now.to_f
    lines = File.read(out).lines
    assert_equal ROWS.size, lines.size, "one JSON line per row (the blank line skipped)"
    lines.each_with_index do |line, i|
      assert line.end_with?("\n"), "line #{i + 1} ends in a newline"
      row = JSON.parse(line)
      assert_equal ROWS[i], row
      assert_equal EXTRACT_COLUMNS, row.keys, "keys in the order the job asked for"
    end
    assert_equal 0o644, File.stat(out).mode & 0o777
    assert_empty Dir.glob("#{out}.tmp-*"), "no temporary file left"

    summary = JSON.parse(raw)
    assert_equal "ExtractSummaryJob", summary["class"]
    assert_equal "reports", summary["queue"]
    assert_equal [jid, out, ROWS.size, AGGREGATES], summary["args"]
    assert_equal true, summary["retry"]
    assert_match(/\A\h{24}\z/, summary["jid"])
    %w[created_at enqueued_at].each do |k|
      assert_operator summary[k], :>=, t0
      assert_operator summary[k], :<=, t1
    end
    assert_includes redis.smembers("queues"), "reports"
    assert_equal 1, summaries.size
  end

  # ---- running ----------------------------------------------------------------------------

  def test_extract_module_built_with_its_makefile_runs_ruby_enqueued_jobs
    assert_match(/cc .*-shared -fPIC -o extract\.so extract\.c \$\(pkg-config --cflags --libs winch\)/,
      built[:make_out])
    refute_match(/warning/i, built[:make_out])
    so = install_module(:extract)
    csv = write_csv
    out = File.join(@dir, "out.jsonl")
    t0 = Time.now.to_f
    jid = Sidekiq::Client.push("class" => "ExtractJob", "args" => [csv, EXTRACT_COLUMNS, out])

    w = start_staged("-M", so)
    assert_extracted(jid, out, t0)
    assert_includes w.log, "INFO: handler modules: extract (#{so})"
    assert_includes w.log, "extracted 4 rows from #{csv} into #{out}"
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [1, 0], [processed, failed]
    assert_equal 0, redis.zcard("retry")
  end

  # `-M extract.so` is a path relative to the working directory, as for every other flag
  # that takes a file, and the file loaded must be the file whose owner and mode were checked.
  # (dlopen(3) searches the library path, not the working directory, for a name with no "/".)
  def test_module_path_without_a_directory_is_relative_to_the_working_directory
    name = "cwd_extract_#{SecureRandom.hex(4)}.so"
    install_module(:extract, Harness.tmpdir, name: name) # the workers' working directory
    csv = write_csv
    out = File.join(@dir, "out.jsonl")
    t0 = Time.now.to_f
    jid = Sidekiq::Client.push("class" => "ExtractJob", "args" => [csv, EXTRACT_COLUMNS, out])

    w = spawn_staged("-t", "1", "--beat-interval", "0.5", "-M", name)
    wait_for("winch to register or exit") { !w.alive? || redis.scard("processes") == 1 }
    assert w.alive?, "winch -M #{name} (a file in its working directory) starts:\n#{w.log}"
    assert_extracted(jid, out, t0)
    assert_clean_exit w.stop
  end

  def test_handlers_dir_loads_every_so_in_it
    dir = File.join(@dir, "handlers")
    so = install_module(:extract, dir)
    File.write(File.join(dir, "README.txt"), "not a module, and not named *.so: skipped\n")
    csv = write_csv
    out = File.join(@dir, "out.jsonl")
    t0 = Time.now.to_f
    jid = Sidekiq::Client.push("class" => "ExtractJob", "args" => [csv, EXTRACT_COLUMNS, out])

    w = start_staged("--handlers", dir)
    assert_extracted(jid, out, t0)
    assert_includes w.log, "INFO: handler modules: extract (#{so})"
    assert_clean_exit w.stop
  end

  # Errno::ENOENT as Ruby's File.open raises it; retries as the class's options say: the
  # payload's own `retry` when it has one (the Ruby client always writes "retry": true),
  # else 3; each 10 * (count + 1) s later, plus Sidekiq's jitter rand(10) * (count + 1).
  def test_missing_file_fails_with_errno_enoent_and_the_class_retry_options
    missing = File.join(@dir, "missing.csv")
    out = File.join(@dir, "out.jsonl")
    args = [missing, ["id"], out]
    client_jid = Sidekiq::Client.push("class" => "ExtractJob", "args" => args)
    assert_equal true, JSON.parse(raw_queue("default").first)["retry"]
    # Payloads with no "retry" (as a producer other than the Ruby client may write them).
    second_jid = push_without_retry("ExtractJob", args, retry_count: 1)
    last_jid = push_without_retry("ExtractJob", args, retry_count: 2)
    true_jid, = push_job("ExtractJob", args, retry_count: 2)
    raw_queue("default").each { |raw|
      h = JSON.parse(raw)
      assert_equal h["jid"] == client_jid || h["jid"] == true_jid, h.key?("retry"), raw
    }

    w = start_staged("-M", install_module(:extract))
    wait_for("3 retries and 1 death") { redis.zcard("retry") == 3 && redis.zcard("dead") == 1 }
    message = "No such file or directory @ rb_sysopen - #{missing}"
    retries = zset("retry").to_h { |raw, score| h = JSON.parse(raw); [h["jid"], [h, score]] }

    entry, score = retries.fetch(client_jid)
    assert_equal "Errno::ENOENT", entry["error_class"]
    assert_equal message, entry["error_message"]
    assert_equal 0, entry["retry_count"]
    assert_equal true, entry["retry"]
    delay = score - entry["failed_at"]
    assert_operator delay, :>=, 10, "retry_in: 10 * (0 + 1) s"
    assert_operator delay, :<, 20, "retry_in 10 s plus a jitter below 10 s"
    backtrace = JSON.parse(Zlib::Inflate.inflate(Base64.decode64(entry["error_backtrace"])))
    assert_equal ["extract.c:in `csv_open'"], backtrace, "backtrace: 5 (the payload has none)"

    entry, score = retries.fetch(second_jid)
    refute entry.key?("retry")
    assert_equal 2, entry["retry_count"], "retry 3 by default: the 3rd attempt is retried"
    delay = score - entry["retried_at"]
    assert_operator delay, :>=, 30, "retry_in: 10 * (2 + 1) s"
    assert_operator delay, :<, 30 + 9 * 3 + 1

    entry, = retries.fetch(true_jid)
    assert_equal 3, entry["retry_count"], "retry: true in the payload: Sidekiq's 25"

    dead = JSON.parse(redis.zrange("dead", 0, -1).first)
    assert_equal last_jid, dead["jid"], "retry 3 by default: the 4th attempt dies"
    assert_equal "Errno::ENOENT", dead["error_class"]
    assert_equal message, dead["error_message"]
    assert_equal 3, dead["retry_count"]
    refute File.exist?(out)
    assert_empty Dir.glob("#{out}*")
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [4, 4], [processed, failed]
  end

  def test_bad_arguments_and_missing_columns
    csv = write_csv
    out = File.join(@dir, "out.jsonl")
    cases = {
      [csv, ["id", "nope"], out] => ["KeyError", "key not found: \"nope\" (not a column of #{csv})"],
      [csv, ["id"]] => ["ArgumentError", "wrong number of arguments (given 2, expected 3: " \
        "csv_path, columns, output_path)"],
      [csv, "id", out] => ["ArgumentError", "columns must be an array of 1 to 1000 column names"],
      [csv, ["id", "id"], out] => ["ArgumentError", "column \"id\" is named twice"],
      [42, ["id"], out] => ["ArgumentError", "csv_path and output_path must be non-empty strings"]
    }
    jids = cases.keys.to_h { |args| [Sidekiq::Client.push("class" => "ExtractJob", "args" => args), args] }
    w = start_staged("-M", install_module(:extract))
    wait_for("#{cases.size} retries") { redis.zcard("retry") == cases.size }
    zset("retry").each do |raw, _|
      h = JSON.parse(raw)
      assert_equal cases.fetch(jids.fetch(h["jid"])), [h["error_class"], h["error_message"]]
    end
    refute File.exist?(out)
    assert_empty Dir.glob("#{out}*")
    assert_clean_exit w.stop
  end

  def test_malformed_csv_fails_with_the_line
    cases = {
      "bad_quote.csv" => ["id,name\n1,a\"b\n", "a quote inside an unquoted field in line 2"],
      "unclosed.csv" => ["id,name\n1,\"abc\n2,x\n", "unclosed quoted field from line 2"],
      "short_row.csv" => ["id,name\r\n1,a\r\n2\r\n", "the row in line 3 has 1 fields; the header has 2"],
      "lone_cr.csv" => ["id,name\r\n1,a\r2,b\r\n", "a lone carriage return in line 2"],
      "after_quote.csv" => ["id,name\n1,\"a\"b\n", "text after the closing quote of a field in line 2"]
    }
    out = File.join(@dir, "out.jsonl")
    expected = cases.to_h { |file, (text, msg)|
      path = write_csv(file, text)
      [Sidekiq::Client.push("class" => "ExtractJob", "args" => [path, ["id"], out]), "#{path}: #{msg}"]
    }
    w = start_staged("-M", install_module(:extract))
    wait_for("#{cases.size} retries") { redis.zcard("retry") == cases.size }
    zset("retry").each do |raw, _|
      h = JSON.parse(raw)
      assert_equal ["CSV::MalformedCSVError", expected.fetch(h["jid"])], [h["error_class"], h["error_message"]]
    end
    assert_empty Dir.glob("#{out}*"), "the temporary file is removed after a failure"
    assert_clean_exit w.stop
  end

  def test_aggregates_only_for_columns_whose_every_value_is_a_number
    csv = write_csv("numbers.csv", "a,b,c,d,e\n1,1,0x1A,1e999,-1.5\n2,,5,1,+2E1\n")
    header_only = write_csv("header_only.csv", "a,b\r\n")
    out = File.join(@dir, "out.jsonl")
    out2 = File.join(@dir, "out2.jsonl")
    jid = Sidekiq::Client.push("class" => "ExtractJob", "args" => [csv, %w[a b c d e], out])
    jid2 = Sidekiq::Client.push("class" => "ExtractJob", "args" => [header_only, %w[a], out2])
    w = start_staged("-M", install_module(:extract))
    wait_for("two summaries") { summaries.size == 2 }
    got = summaries.map { |raw| JSON.parse(raw)["args"] }.sort_by { |a| a[0] == jid ? 0 : 1 }
    assert_equal [jid, out, 2, {"a" => {"sum" => 3.0, "min" => 1.0, "max" => 2.0},
      "e" => {"sum" => 18.5, "min" => -1.5, "max" => 20.0}}], got[0],
      "b has an empty value, c a hex number, d one too big for a double: not numbers"
    assert_equal [jid2, out2, 0, {}], got[1], "no rows: no column has shown it is numeric"
    assert_equal "", File.read(out2)
    assert_clean_exit w.stop
  end

  # TERM while a long file is being read: the handler notices within 10,000 rows, removes its
  # temporary file and returns WINCH_REQUEUE; the job goes back unchanged, counted as neither
  # processed nor failed, and winch exits long before its -t. The CSV is a FIFO the test
  # writes to, so the handler is mid-file when TERM arrives, whatever the machine's speed.
  def test_stopping_requeues_a_long_extract_and_removes_its_temp_file
    fifo = File.join(@dir, "long.csv")
    File.mkfifo(fifo)
    out = File.join(@dir, "out.jsonl")
    Sidekiq::Client.push("class" => "ExtractJob", "args" => [fifo, ["id", "amount"], out])
    raw = raw_queue("default").first
    w = spawn_staged("-t", "20", "--beat-interval", "0.5", "-M", install_module(:extract))
    wait_registered(w)

    rows = ->(from, n) { (from...from + n).map { |i| "#{i},#{i}.5\n" }.join }
    first_part = Queue.new
    # 20,000 rows, then (once winch says it is stopping) more, 10,000 at a time, until the
    # handler closes the FIFO: it must notice at one of its checks.
    writer = Thread.new do
      Thread.current.report_on_exception = false
      File.open(fifo, "w") do |f|
        f.write("id,amount\n", rows.call(0, 20_000))
        f.flush
        first_part << true
        sleep 0.05 until w.log.include?("shutting down")
        (2...100).each do |k|
          f.write(rows.call(k * 10_000, 10_000))
          f.flush
        end
      end
      :wrote_everything
    rescue Errno::EPIPE
      :reader_gone # the handler stopped reading: expected
    end
    wait_for("the handler to read 20,000 rows") { !first_part.empty? }
    assert_equal 1, Dir.glob("#{out}.tmp-*").size, "the temporary file exists while it runs"
    t0 = Harness.monotonic
    w.signal("TERM")
    status = w.wait_exit(15 * Integration::SLOW)
    elapsed = Harness.monotonic - t0
    assert_equal :reader_gone, writer.join(5)&.value
    assert_clean_exit status
    assert_operator elapsed, :<, 10, "ended by the handler's WINCH_REQUEUE, not by -t 20"
    assert_match(/stopping: #{Regexp.escape(fifo)} goes back to its queue after \d*0000 rows/,
      w.log)
    assert_equal [raw], redis.lrange("queue:default", 0, -1), "requeued byte for byte"
    refute File.exist?(out)
    assert_empty Dir.glob("#{out}*"), "the temporary file is removed"
    assert_nil redis.get("stat:processed")
    assert_nil redis.get("stat:failed")
    assert_equal 0, redis.llen("queue:reports")
  end

  # ---- refusals ---------------------------------------------------------------------------

  # winch with these arguments exits 2 before fetching: its whole output is one ERROR line
  # that names +file+ and matches +pattern+; the job pushed first is still queued, unchanged.
  def assert_refused(args, file, pattern)
    _, raw = push_job("ExtractJob", [write_csv, ["id"], File.join(@dir, "out.jsonl")])
    w = spawn_staged(*args)
    status = w.wait_exit(10 * Integration::SLOW)
    refute_nil status, "winch exits"
    assert_equal 2, status.exitstatus, "exit code: #{status.inspect}\n#{w.log}"
    lines = w.log.lines
    assert_equal 1, lines.size, "one line:\n#{w.log}"
    assert_includes lines[0], " ERROR: "
    assert_includes lines[0], "'#{file}'"
    assert_match pattern, lines[0]
    assert_equal [raw], redis.lrange("queue:default", 0, -1), "no job fetched"
    assert_empty redis.smembers("processes")
    assert_nil redis.get("stat:processed")
    redis.del("queue:default")
  end

  def test_refuses_a_missing_module
    path = File.join(@dir, "nowhere.so")
    assert_refused(["-M", path], path, /No such file or directory/)
  end

  def test_refuses_a_missing_handlers_dir
    dir = File.join(@dir, "no-such-dir")
    assert_refused(["--handlers", dir], dir, /No such file or directory/)
  end

  def test_refuses_files_that_are_not_modules
    text = File.join(@dir, "text.so")
    File.write(text, "this is not a shared object\n")
    File.chmod(0o755, text)
    assert_refused(["-M", text], text, /cannot load/)
    nosym = install_module(:nosym)
    assert_refused(["-M", nosym], nosym, /not a winch module \(no 'winch_module' symbol\)/)
  end

  def test_refuses_a_module_of_another_api_version
    path = install_module(:future)
    assert_refused(["-M", path], path, /API version 999\b.*API version 1\b/)
  end

  def test_refuses_a_module_writable_by_group_or_others
    path = install_module(:extract)
    File.chmod(0o775, path)
    assert_refused(["-M", path], path, /writable by its group \(mode 775\)/)
    File.chmod(0o757, path)
    assert_refused(["-M", path], path, /writable by others \(mode 757\)/)
    dir = File.join(@dir, "handlers")
    bad = install_module(:extract, dir)
    File.chmod(0o775, bad)
    assert_refused(["--handlers", dir], bad, /writable by its group/)
  end

  def test_refuses_a_class_registered_twice
    extract = install_module(:extract)
    other = install_module(:other_extract)
    assert_refused(["-M", extract, "-M", other], other,
      /job class 'ExtractJob' is already registered by '#{Regexp.escape(extract)}'/)
    noop = install_module(:noop)
    assert_refused(["-M", noop], noop, /job class 'Winch::Noop' is already registered by 'built-in'/)
  end

  def test_refuses_a_module_owned_by_another_user
    skip "needs root to chown the module to another user (running as uid #{Process.euid})" unless Process.euid.zero?
    path = install_module(:extract)
    File.chown(65534, nil, path)
    assert_refused(["-M", path], path, /owned by uid 65534, not by root or by the user winch runs as/)
  end
end
