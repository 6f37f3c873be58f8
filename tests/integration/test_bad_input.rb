# Bad input pushed raw into queue:default, each followed by a good Winch::Echo job that must
# still be answered: the worker goes on (same pid), nothing is lost, the bad payload is kept
# (dead set) with one error line in the log, and the stats count what Sidekiq counts.
require_relative "helper"

class TestBadInput < Integration::Test
  # Fields winch writes when it fails a job; everything else must be as the client wrote it.
  OWNED = %w[error_class error_message failed_at retried_at retry_count error_backtrace queue].freeze

  def start(*args)
    start_winch("-c", "2", *args)
  end

  # Pushes +raw+ then a good Echo job, waits for the Echo's reply; returns the reply.
  def push_bad_then_good(w, raw, reply_queue: "replies")
    lpush_raw(raw)
    jid = push_echo(reply_queue, "after")
    reply = JSON.parse(wait_reply(jid, queue: reply_queue))
    assert_equal [jid, "after"], reply["args"], "the good job after the bad one is answered"
    assert w.alive?, "winch is still running"
    reply
  end

  # The payload that is not a job: dead set verbatim, one ERROR line matching +reason+, not
  # counted, nothing else written, same process throughout.
  def assert_dead_verbatim(raw, reason, *args)
    w, identity = start(*args)
    push_bad_then_good(w, raw)
    members = zset("dead")
    assert_equal 1, members.size, "one dead-set entry"
    assert members[0][0] == raw, "the dead-set member is the exact raw bytes " \
      "(#{raw.bytesize} bytes pushed, #{members[0][0].bytesize} stored: #{members[0][0][0, 120].inspect})"
    assert_in_delta Time.now.to_f, members[0][1], 10, "dead-set score is the time of death"
    assert_equal 0, redis.zcard("retry"), "nothing in the retry set"
    assert_equal 0, redis.llen("queue:default"), "nothing left in or pushed back to the queue"
    assert_includes redis.smembers("processes"), identity, "the same process is registered"
    errors = log_lines(w, "ERROR")
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [1, 0], [processed, failed], "only the good job is counted; the bad payload is not"
    assert_equal 1, errors.size, "one error line, got:\n#{errors.join}"
    assert_match(/queue 'default'|queue=default|"default"/, errors[0], "the error line names the queue")
    assert_match reason, errors[0], "the error line names the reason"
  end

  # An object with a bad field: dead set as Winch::InvalidJob, error_message naming the field,
  # every byte the client wrote kept, one error line naming the job, counted as a failure.
  def assert_invalid_job(hash, field)
    raw = JSON.generate(hash)
    w, identity = start
    push_bad_then_good(w, raw)
    members = zset("dead")
    assert_equal 1, members.size, "one dead-set entry for #{raw}"
    dead = JSON.parse(members[0][0])
    assert_equal "Winch::InvalidJob", dead["error_class"]
    assert_match(/(?<![\w])'?#{field}'?(?![\w])/, dead["error_message"].to_s, "error_message names '#{field}'")
    assert_equal 0, dead["retry_count"]
    assert_kind_of Float, dead["failed_at"], "failed_at as Sidekiq 7 writes it"
    assert_equal hash.reject { |k, _| OWNED.include?(k) }, dead.reject { |k, _| OWNED.include?(k) },
      "the client's fields are kept"
    assert_equal 0, redis.zcard("retry"), "not retried: it can never run"
    assert_equal 0, redis.llen("queue:default")
    assert_includes redis.smembers("processes"), identity
    errors = log_lines(w, "ERROR")
    warnings = log_lines(w, "WARN")
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [2, 1], [processed, failed], "the invalid job counts as processed and failed"
    assert_equal 1, errors.size, "one error line, got:\n#{errors.join}"
    problems = []
    problems << "the error line does not name the field '#{field}'" unless errors[0] =~ /(?<![\w])'?#{field}'?(?![\w])/
    if hash["jid"].is_a?(String) && !errors[0].include?(hash["jid"])
      problems << "the error line does not name the job (jid #{hash["jid"]} is in the payload)"
    end
    problems << "one event, one line: also logged #{warnings.join.inspect}" unless warnings.empty?
    assert_empty problems, "log of the invalid job:\n#{errors.join}#{warnings.join}"
  end

  def good_hash
    job_hash("Winch::Noop", [1])
  end

  # ---- not a job at all: dead set verbatim ----------------------------------------------

  def test_not_json
    assert_dead_verbatim("{nope", /JSON/i)
  end

  def test_json_array
    assert_dead_verbatim("[1,2]", /not a JSON object/i)
  end

  def test_json_string
    assert_dead_verbatim('"str"', /not a JSON object/i)
  end

  def test_json_number
    assert_dead_verbatim("42", /not a JSON object/i)
  end

  def test_nesting_10000_deep
    deep = "[" * 10_000 + "]" * 10_000
    raw = %({"retry":true,"queue":"default","args":["replies",#{deep}],"class":"Winch::Echo","jid":"#{SecureRandom.hex(12)}"})
    assert_dead_verbatim(raw, /deep|depth|nest/i)
  end

  def test_over_max_payload
    raw = JSON.generate(job_hash("Winch::Noop", ["x" * 1_100_000]))
    assert_operator raw.bytesize, :>, 1_048_576
    assert_dead_verbatim(raw, /limit|too (big|large)|bytes/i, "--max-payload", "1048576")
  end

  # ---- objects with bad fields: Winch::InvalidJob ---------------------------------------

  def test_missing_class
    assert_invalid_job(good_hash.tap { |h| h.delete("class") }, "class")
  end

  def test_class_not_a_string
    assert_invalid_job(good_hash.merge("class" => 42), "class")
  end

  def test_class_an_object
    assert_invalid_job(good_hash.merge("class" => {"name" => "Winch::Noop"}), "class")
  end

  def test_args_not_an_array
    assert_invalid_job(good_hash.merge("args" => {"a" => 1}), "args")
  end

  def test_args_a_string
    assert_invalid_job(good_hash.merge("args" => "[1]"), "args")
  end

  def test_missing_args
    assert_invalid_job(good_hash.tap { |h| h.delete("args") }, "args")
  end

  def test_jid_not_a_string
    assert_invalid_job(good_hash.merge("jid" => 12345), "jid")
  end

  # A queue name becomes a key and a member of `queues`: over 256 bytes it is refused.
  def test_queue_name_over_256_bytes
    assert_invalid_job(good_hash.merge("queue" => "q" * 257), "queue")
  end

  # ---- payloads that must run --------------------------------------------------------

  def test_integer_beyond_64_bits_is_echoed_byte_for_byte
    w, = start
    big = "123456789012345678901234567890123456789"
    neg = "-98765432109876543210987654321"
    jid = SecureRandom.hex(12)
    raw = %({"retry":true,"queue":"default","args":["replies",#{big},[#{neg}],{"n":18446744073709551616}],"class":"Winch::Echo","jid":"#{jid}","created_at":#{Time.now.to_f}})
    lpush_raw(raw)
    reply = wait_reply(jid)
    assert_includes reply, %("args":["#{jid}",#{big},[#{neg}],{"n":18446744073709551616}]),
      "the rest of the args, byte for byte: #{reply}"
    args = JSON.parse(reply)["args"]
    assert_equal [jid, Integer(big), [Integer(neg)], {"n" => 2**64}], args
    assert w.alive?
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [1, 0], [processed, failed]
  end

  # Ruby's JSON accepts nesting to 100 levels: a job at that depth runs.
  def test_nesting_100_deep_runs
    w, = start
    nested = "[" * 98 + "]" * 98
    jid = SecureRandom.hex(12)
    lpush_raw(%({"retry":true,"queue":"default","args":["replies",#{nested}],"class":"Winch::Echo","jid":"#{jid}"}))
    reply = wait_reply(jid)
    assert_includes reply, %("args":["#{jid}",#{nested}]), "the nested args come back byte for byte"
    assert_equal 0, redis.zcard("dead")
    assert_equal [], log_lines(w, "ERROR")
  end

  # At the largest --max-depth a payload nested that deep runs and does not crash winch.
  def test_nesting_at_max_depth_10000_runs
    w, identity = start("--max-depth", "10000")
    nested = "[" * 9990 + "]" * 9990
    jid = SecureRandom.hex(12)
    lpush_raw(%({"retry":true,"queue":"default","args":["replies",#{nested}],"class":"Winch::Echo","jid":"#{jid}"}))
    reply = wait_reply(jid)
    assert_includes reply, %("args":["#{jid}",#{nested}]), "the nested args come back byte for byte"
    push_bad_then_good(w, "{nope")
    assert_includes redis.smembers("processes"), identity
  end

  def test_10_mb_payload_runs
    w, identity = start
    big = SecureRandom.alphanumeric(10 * 1024 * 1024)
    jid, raw = push_job("Winch::Noop", [big])
    assert_operator raw.bytesize, :>, 10 * 1024 * 1024
    reply_jid = push_echo("replies", "after")
    wait_reply(reply_jid, timeout: 20 * Integration::SLOW)
    done = wait_for("the 10 MB job's done line", 10) { w.log.lines.find { |l| l.include?(jid) && l =~ / INFO: done\b/ } }
    refute_nil done
    assert_equal 0, redis.zcard("dead"), "nothing dead"
    assert_equal 0, redis.zcard("retry"), "nothing to retry"
    assert_equal [], log_lines(w, "ERROR")
    assert_includes redis.smembers("processes"), identity
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [2, 0], [processed, failed]
  end

  # All of the above, one after another, into one process: it keeps going.
  def test_a_stream_of_bad_payloads_into_one_worker
    w, identity = start
    bad = ["{nope", "[1,2]", '"str"', "42", "", "null", "{}", '{"class":"Winch::Noop"}',
      JSON.generate(good_hash.merge("jid" => nil)), "{\"a\":\xff}".b,
      JSON.generate(good_hash.merge("args" => nil))]
    jids = []
    bad.each do |raw|
      lpush_raw(raw)
      jids << push_echo("replies", raw.bytesize)
    end
    jids.each_with_index do |jid, i|
      assert_equal [jid, bad[i].bytesize], JSON.parse(wait_reply(jid))["args"]
    end
    assert w.alive?
    assert_includes redis.smembers("processes"), identity
    assert_equal bad.size, redis.zcard("dead"), "every bad payload is kept in the dead set"
    assert_equal 0, redis.llen("queue:default")
    assert_equal bad.size, log_lines(w, "ERROR").size, "one error line per bad payload:\n#{w.log}"
  end
end
