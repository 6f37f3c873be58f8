# Sidekiq's retry rules end to end with Winch::Fail: retry true/false/N, dead: false,
# retry_queue, retry_count and the timestamps in the unit of each --sidekiq generation.
require_relative "helper"
require "base64"
require "zlib"

class TestRetry < Integration::Test
  OWNED = %w[error_class error_message failed_at retried_at retry_count error_backtrace queue].freeze

  def fail_job(error: "ArgumentError", message: "boom", **extra)
    push_job("Winch::Fail", [error, message], **extra)
  end

  def wait_member(set)
    raw = wait_for("a member of #{set}", 10 * Integration::SLOW) { redis.zrange(set, 0, -1).first }
    assert_equal 1, redis.zcard(set), "one member in #{set}"
    [raw, redis.zscore(set, raw)]
  end

  def assert_kept(original_raw, member)
    original = JSON.parse(original_raw)
    assert_equal original.reject { |k, _| OWNED.include?(k) }, member.reject { |k, _| OWNED.include?(k) },
      "fields winch does not own are kept"
  end

  # The job failed and left no trace in Redis: waits for its "fail" log line first.
  def wait_failed(w, jid)
    wait_for("the fail line of #{jid}", 10 * Integration::SLOW) {
      w.log.lines.any? { |l| l.include?("jid=#{jid}") && l =~ / INFO: fail\b/ }
    }
    sleep 0.3 # any write the failure caused has reached Redis by now
  end

  def test_retry_true_goes_to_the_retry_set
    w, = start_winch("-c", "2")
    jid, raw = fail_job(error: "Net::ReadTimeout", message: "slow server")
    member, score = wait_member("retry")
    job = JSON.parse(member)
    assert_equal jid, job["jid"]
    assert_equal ["Net::ReadTimeout", "slow server", 0, "default"],
      job.values_at("error_class", "error_message", "retry_count", "queue")
    assert_kind_of Float, job["failed_at"]
    refute job.key?("retried_at")
    refute job.key?("error_backtrace"), "no backtrace unless the job asks for one"
    assert_operator score, :>=, job["failed_at"] + 15 - 0.01
    assert_operator score, :<=, job["failed_at"] + 24 + 0.01
    assert_kept(raw, job)
    assert_equal 0, redis.zcard("dead")
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [1, 1], [processed, failed]
  end

  def test_retry_false_discards
    w, = start_winch("-c", "2")
    jid, = fail_job(retry: false)
    wait_failed(w, jid)
    assert_equal 0, redis.zcard("retry"), "no retry"
    assert_equal 0, redis.zcard("dead"), "not dead either"
    assert_equal 0, redis.llen("queue:default")
    lines = w.log.lines.select { |l| l.include?(jid) && l =~ /discard/i }
    assert_equal 1, lines.size, "one log line says the job was discarded:\n#{w.log}"
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [1, 1], [processed, failed]
  end

  def test_retry_zero_goes_to_the_dead_set
    w, = start_winch("-c", "2")
    jid, raw = fail_job(retry: 0)
    t0 = Time.now.to_f
    member, score = wait_member("dead")
    job = JSON.parse(member)
    assert_equal [jid, "ArgumentError", "boom", 0], job.values_at("jid", "error_class", "error_message", "retry_count")
    assert_in_delta t0, score, 5, "dead-set score: the time of death"
    assert_kept(raw, job)
    assert_equal 0, redis.zcard("retry")
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [1, 1], [processed, failed]
  end

  def test_dead_false_with_retry_zero_discards
    w, = start_winch("-c", "2")
    jid, = fail_job(retry: 0, dead: false)
    wait_failed(w, jid)
    assert_equal 0, redis.zcard("retry")
    assert_equal 0, redis.zcard("dead")
    lines = w.log.lines.select { |l| l.include?(jid) && l =~ /discard/i }
    assert_equal 1, lines.size, "one log line says the job was discarded:\n#{w.log}"
  end

  def test_retry_queue_is_honoured
    start_winch("-c", "2")
    _, raw = fail_job(retry_queue: "slow_lane")
    member, = wait_member("retry")
    job = JSON.parse(member)
    assert_equal "slow_lane", job["queue"]
    assert_equal "slow_lane", job["retry_queue"]
    assert_kept(raw, job)
  end

  def test_a_later_failure_counts_up_and_keeps_failed_at
    start_winch("-c", "2")
    failed_at = Time.now.to_f - 100
    _, raw = fail_job(retry_count: 2, failed_at: failed_at, error_message: "old", error_class: "Old")
    member, score = wait_member("retry")
    job = JSON.parse(member)
    assert_equal 3, job["retry_count"]
    assert_equal failed_at, job["failed_at"], "failed_at is kept"
    assert_kind_of Float, job["retried_at"]
    assert_in_delta Time.now.to_f, job["retried_at"], 5
    assert_equal ["ArgumentError", "boom"], job.values_at("error_class", "error_message")
    # 3**4 + 15 = 96 s, plus rand(10) * 4 s of jitter.
    assert_operator score, :>=, job["retried_at"] + 96 - 0.01
    assert_operator score, :<=, job["retried_at"] + 96 + 36 + 0.01
    assert_kept(raw, job)
  end

  def test_exhausted_retries_go_to_the_dead_set
    start_winch("-c", "2")
    jid, = fail_job(retry: 2, retry_count: 1, failed_at: Time.now.to_f - 60)
    member, = wait_member("dead")
    job = JSON.parse(member)
    assert_equal [jid, 2], job.values_at("jid", "retry_count")
    assert_equal 0, redis.zcard("retry")
  end

  def test_backtrace_is_stored_when_asked
    start_winch("-c", "2")
    fail_job(backtrace: true)
    member, = wait_member("retry")
    encoded = JSON.parse(member)["error_backtrace"]
    refute_nil encoded, "error_backtrace is set"
    frames = JSON.parse(Zlib::Inflate.inflate(Base64.decode64(encoded)))
    assert_kind_of Array, frames
    refute_empty frames
    assert frames.any? { |f| f.include?("Winch::Fail") }, "a frame names the handler: #{frames.inspect}"
  end

  def failed_at_text(*args)
    start_winch("-c", "2", *args)
    fail_job
    member, = wait_member("retry")
    text = member[/"failed_at":([^,}]*)/, 1]
    refute_nil text, "failed_at in #{member}"
    text
  end

  def test_sidekiq_8_writes_integer_milliseconds
    t0 = (Time.now.to_f * 1000).floor
    text = failed_at_text("--sidekiq", "8")
    t1 = (Time.now.to_f * 1000).ceil
    assert_match(/\A\d{13}\z/, text, "integer milliseconds")
    assert_operator text.to_i, :>=, t0 - 10
    assert_operator text.to_i, :<=, t1 + 10
  end

  def test_sidekiq_7_writes_float_seconds
    t0 = Time.now.to_f
    text = failed_at_text("--sidekiq", "7")
    assert_match(/\A\d{10}\.\d+\z/, text, "float seconds with a decimal point")
    assert_in_delta t0, text.to_f, 5
  end

  def test_default_generation_writes_float_seconds
    text = failed_at_text
    assert_match(/\A\d{10}\.\d+\z/, text, "float seconds with a decimal point")
  end

  def test_sidekiq_6_writes_float_seconds
    text = failed_at_text("--sidekiq", "6")
    assert_match(/\A\d{10}\.\d+\z/, text, "float seconds with a decimal point")
  end

  def test_max_retries_zero
    start_winch("-c", "2", "--max-retries", "0")
    jid, = fail_job(retry: true)
    member, = wait_member("dead")
    assert_equal jid, JSON.parse(member)["jid"], "retry: true with --max-retries 0: dead at once"
    assert_equal 0, redis.zcard("retry")
    # A job's own count still wins over the default.
    jid2, = fail_job(retry: 3)
    member2 = wait_for("the retry: 3 job in the retry set", 10) { redis.zrange("retry", 0, -1).first }
    assert_equal jid2, JSON.parse(member2)["jid"]
    assert_equal 1, redis.zcard("dead")
  end
end
