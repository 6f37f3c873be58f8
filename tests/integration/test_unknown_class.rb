# A job whose class has no handler fails as Ruby's NameError does and follows the retry
# rules (never dropped), with one warning per class; with --unknown-class requeue it goes
# back to the schedule set, byte for byte, a few seconds ahead.
require_relative "helper"

class TestUnknownClass < Integration::Test
  def test_unknown_class_fails_with_name_error_into_the_retry_set
    w, = start_winch("-c", "2")
    pushed = 5.times.map { |i| push_job("App::NoSuchJob", [i, "x"]) }
    other = push_job("OtherMissing", [])
    pushed << other
    t0 = Time.now.to_f
    retries = wait_for("6 jobs in the retry set", 10) {
      members = zset("retry")
      members if members.size == 6
    }
    t1 = Time.now.to_f
    by_jid = retries.to_h { |m, score| [JSON.parse(m)["jid"], [JSON.parse(m), score]] }
    pushed.each do |jid, raw|
      assert by_jid.key?(jid), "job #{jid} is in the retry set"
      job, score = by_jid[jid]
      original = JSON.parse(raw)
      assert_equal "NameError", job["error_class"]
      assert_equal "uninitialized constant #{original["class"]}", job["error_message"]
      assert_equal 0, job["retry_count"]
      assert_kind_of Float, job["failed_at"]
      assert_operator job["failed_at"], :>=, t0 - 5
      assert_operator job["failed_at"], :<=, t1 + 1
      # First retry: 0**4 + 15 s, plus rand(10) * 1 s of jitter.
      assert_operator score, :>=, job["failed_at"] + 15 - 0.01, "retry score: failed_at + 15..24 s"
      assert_operator score, :<=, job["failed_at"] + 24 + 0.01, "retry score: failed_at + 15..24 s"
      owned = %w[error_class error_message failed_at retry_count]
      assert_equal original, job.reject { |k, _| owned.include?(k) }, "other fields kept"
    end
    assert_equal 0, redis.zcard("dead")
    assert_equal 0, redis.llen("queue:default")
    warnings = log_lines(w, "WARN")
    assert_equal 1, warnings.count { |l| l.include?("App::NoSuchJob") },
      "one warning for App::NoSuchJob although 5 jobs failed:\n#{warnings.join}"
    assert_equal 1, warnings.count { |l| l.include?("OtherMissing") },
      "one warning for OtherMissing:\n#{warnings.join}"
    status, processed, failed = stop_and_stats(w)
    assert_clean_exit status
    assert_equal [6, 6], [processed, failed], "NameError: counted as processed and failed"
  end

  def test_unknown_class_with_retry_zero_goes_to_the_dead_set
    w, = start_winch("-c", "1")
    jid, = push_job("App::Gone", [1], retry: 0)
    dead = wait_for("the job in the dead set", 10) { redis.zrange("dead", 0, -1).first }
    job = JSON.parse(dead)
    assert_equal [jid, "NameError", "uninitialized constant App::Gone"],
      job.values_at("jid", "error_class", "error_message")
    assert_equal 0, redis.zcard("retry")
    assert w.alive?
  end

  def test_requeue_policy_puts_the_job_back_in_the_schedule_set
    w, = start_winch("-c", "2", "--unknown-class", "requeue")
    raws = 5.times.map { |i|
      # Bytes a re-serializer would change: spacing, escapes, a big integer, key order.
      raw = %({"class":"Ruby::Only", "args":[#{i},12345678901234567890123,"caf\\u00e9\\/x"],"queue":"default",) +
        %("retry":true,"jid":"#{SecureRandom.hex(12)}","created_at":#{Time.now.to_f},"enqueued_at":#{Time.now.to_f}})
      lpush_raw(raw)
    }
    t0 = Time.now.to_f
    members = wait_for("5 jobs in the schedule set", 10) {
      m = zset("schedule")
      m if m.size == 5
    }
    t1 = Time.now.to_f
    assert_equal raws.sort, members.map(&:first).sort, "the schedule set holds the exact bytes"
    members.each do |_, score|
      assert_operator score, :>=, t0 + 4, "about 5 s ahead"
      assert_operator score, :<=, t1 + 6, "about 5 s ahead"
    end
    assert_equal 0, redis.zcard("retry"), "not failed"
    assert_equal 0, redis.zcard("dead")
    assert_equal 0, redis.llen("queue:default")
    warnings = log_lines(w, "WARN")
    assert_equal 1, warnings.count { |l| l.include?("Ruby::Only") }, "one warning:\n#{warnings.join}"
    jid = push_echo("replies")
    wait_reply(jid)
    assert w.alive?
  end
end
