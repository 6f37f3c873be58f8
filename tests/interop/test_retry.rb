# Failures and Sidekiq::RetrySet: the payload a failed job leaves, the retry score and
# jitter, retry_queue, backtraces, unknown classes, and the API's "retry now".
require "minitest/autorun"
require "base64"
require "zlib"
require_relative "../support/harness"

class TestRetry < Harness::TestCase
  BIG = 123456789012345678901234567890
  # Fields a failure may add or change; every other field must come back as it was.
  OWNED = %w[queue error_message error_class failed_at retried_at retry_count error_backtrace].freeze

  def retry_entries
    Sidekiq::RetrySet.new.to_a
  end

  def test_failed_job_lands_in_retry_set_with_sidekiq_fields
    jid = push("Winch::Fail", ["ArgumentError", "boom ✓ ünï"], queue: "fq",
      "custom_key" => {"keep" => [1, BIG, "x"]}, "tags" => ["a"])
    original_raw = raw_queue("fq").first
    original = JSON.parse(original_raw)
    t0 = Time.now.to_f
    start_worker(queues: ["fq"])

    entry = wait_for("the retry entry") { retry_entries.first }
    t1 = Time.now.to_f
    item = entry.item
    assert_equal jid, entry.jid
    assert_equal "Winch::Fail", entry.klass
    assert_equal "ArgumentError", item["error_class"]
    assert_equal "boom ✓ ünï", item["error_message"]
    assert_equal 0, item["retry_count"]
    assert_kind_of Integer, item["retry_count"]
    assert_kind_of Float, item["failed_at"]
    assert_operator item["failed_at"], :>=, t0 - 0.01
    assert_operator item["failed_at"], :<=, t1
    assert_match(/"failed_at":\d+\.\d+/, entry.value, "failed_at is float seconds with a decimal point")
    refute item.key?("retried_at"), "retried_at only after the second failure"
    refute item.key?("error_backtrace"), "no backtrace unless the job asks for it"
    assert_equal "fq", item["queue"]
    assert_equal "fq", entry.queue
    assert_includes entry.value, BIG.to_s, "big integers keep every digit"
    assert_equal original, item.reject { |k, _| OWNED.include?(k) }.merge("queue" => original["queue"]),
      "every field the worker does not own is kept"
    assert_equal 0, Sidekiq::Queue.new("fq").size
    assert_equal 0, Sidekiq::DeadSet.new.size

    delay = entry.score - item["failed_at"]
    assert_operator delay, :>=, 15, "retry 0 waits at least 0**4 + 15 s"
    assert_operator delay, :<, 25, "retry 0 jitter is rand(10) * 1"
    wait_for_stats(processed: 1, failed: 1)
  end

  def test_retry_score_jitter_is_whole_seconds_and_varies
    count = 30
    count.times { |i| push("Winch::Fail", ["RuntimeError", "j#{i}"]) }
    start_worker(concurrency: 10)
    wait_for("#{count} retry entries") { Sidekiq::RetrySet.new.size == count }
    jitters = retry_entries.map do |e|
      d = e.score - e["failed_at"] - 15
      assert_operator d, :>=, 0
      assert_operator d, :<, 10
      assert_operator d - d.floor, :<, 0.5, "jitter is rand(10) whole seconds (got #{d})"
      d.floor
    end
    assert_operator jitters.uniq.size, :>=, 3, "jitter is random: #{jitters.inspect}"
  end

  def test_retry_queue_is_honoured
    push("Winch::Fail", ["RuntimeError", "rq"], queue: "fq", retry_queue: "later_q")
    push("Winch::Fail", ["RuntimeError", "plain"], queue: "fq2")
    start_worker(queues: ["fq", "fq2"])
    wait_for("two retry entries") { Sidekiq::RetrySet.new.size == 2 }
    by_msg = retry_entries.to_h { |e| [e["error_message"], e] }
    assert_equal "later_q", by_msg["rq"]["queue"]
    assert_equal "later_q", by_msg["rq"]["retry_queue"]
    assert_equal "fq2", by_msg["plain"]["queue"]
  end

  def test_error_message_is_truncated_to_10000_chars
    push("Winch::Fail", ["RuntimeError", "m" * 12_000])
    start_worker
    entry = wait_for("the retry entry") { retry_entries.first }
    assert_equal "m" * 10_000, entry["error_message"]
  end

  def test_backtrace_true_is_zlib_base64_json
    push("Winch::Fail", ["RuntimeError", "bt"], backtrace: true)
    push("Winch::Fail", ["RuntimeError", "bt2"], backtrace: 2)
    start_worker
    wait_for("two retry entries") { Sidekiq::RetrySet.new.size == 2 }
    by_msg = retry_entries.to_h { |e| [e["error_message"], e] }

    full = by_msg["bt"]
    raw = full["error_backtrace"]
    assert_kind_of String, raw
    compressed = Base64.decode64(raw)
    assert_equal 0x78, compressed.getbyte(0), "a zlib stream (not gzip, not raw deflate)"
    lines = JSON.parse(Zlib::Inflate.inflate(compressed))
    assert_kind_of Array, lines
    refute_empty lines
    assert(lines.all? { |l| l.is_a?(String) && !l.empty? }, "frames are strings: #{lines.inspect}")
    assert_equal lines, full.error_backtrace, "the API decodes it to the same frames"

    short = by_msg["bt2"].error_backtrace
    assert_kind_of Array, short
    assert_includes 1..2, short.size, "backtrace: 2 keeps at most 2 frames: #{short.inspect}"
    assert_equal true, full["backtrace"]
    assert_equal 2, by_msg["bt2"]["backtrace"]
  end

  def test_unknown_class_fails_like_name_error
    jid = push("NoSuchJobClass", [1])
    start_worker
    entry = wait_for("the retry entry") { retry_entries.first }
    assert_equal jid, entry.jid
    assert_equal "NameError", entry["error_class"]
    assert_includes entry["error_message"], "NoSuchJobClass"
    assert_equal 0, entry["retry_count"]
    wait_for_stats(processed: 1, failed: 1)
  end

  # SortedEntry#retry (the Web UI's "Retry Now") decrements retry_count before pushing, so a
  # manual retry does not count: the job fails again and comes back with retry_count 0.
  def test_api_retry_now_does_not_count_as_a_retry
    push("Winch::Fail", ["RuntimeError", "again"], retry: 1)
    start_worker
    first = wait_for("the retry entry") { retry_entries.first }
    assert_equal 0, first["retry_count"]

    Sidekiq::RetrySet.new.each(&:retry)
    second = wait_for("the job back in the retry set after running again") {
      retry_entries.find { |e| e.item.key?("retried_at") }
    }
    assert_equal first.jid, second.jid
    assert_equal 0, second["retry_count"]
    assert_equal first["failed_at"], second["failed_at"], "failed_at is kept"
    assert_kind_of Float, second["retried_at"]
    assert_operator second["retried_at"], :>, first["failed_at"]
    assert_operator second["enqueued_at"], :>, first["enqueued_at"], "re-enqueue refreshes enqueued_at"
    assert_equal 1, Sidekiq::RetrySet.new.size
    assert_equal 0, Sidekiq::DeadSet.new.size
    wait_for_stats(processed: 2, failed: 2)
  end
end
