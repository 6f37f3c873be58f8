# ActiveJob through Rails' Sidekiq adapter: the worker dispatches by the "wrapped" class and
# hands the job its arguments as Rails would. With WORKER=sidekiq the Ruby worker loads the
# ActiveJob stand-ins (winch_active_jobs.rb) instead of the plain ones.
require "minitest/autorun"
require_relative "../support/harness"
require_relative "../support/winch_active_jobs"

class TestActiveJob < Harness::TestCase
  WRAPPER = "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper"
  BIG = 123456789012345678901234567890

  def test_perform_later_echo_round_trip
    hwia = ActiveSupport::HashWithIndifferentAccess.new("x" => 1, "y" => [true])
    job = Winch::Echo.perform_later("aj_replies", 1, "two", 2.5, nil, [1, [2]],
      {sym: 1, "str" => [2], nested: {deep: :x.to_s}}, hwia, Winch::TestUser.new(42), :sym,
      BIG, "ünï ✓", kw: "x", other: nil)
    jid = job.provider_job_id
    assert_match(/\A\h{24}\z/, jid)

    raw_job = raw_queue("default").first
    payload = JSON.parse(raw_job)
    assert_equal WRAPPER, payload["class"]
    assert_equal "Winch::Echo", payload["wrapped"]
    assert_equal jid, payload["jid"]
    arguments = payload["args"][0]["arguments"]
    assert_equal({"sym" => 1, "str" => [2], "nested" => {"deep" => "x", "_aj_symbol_keys" => ["deep"]},
      "_aj_symbol_keys" => ["sym", "nested"]}, arguments[6])
    assert_equal({"_aj_globalid" => "gid://winch/Winch::TestUser/42"}, arguments[8])
    assert_equal({"kw" => "x", "other" => nil, "_aj_ruby2_keywords" => ["kw", "other"]}, arguments[-1])

    start_worker(aj: true)
    raw = wait_for("the ActiveJob echo reply") { redis.lrange("queue:aj_replies", 0, -1).first }
    reply = JSON.parse(raw)
    expected = [jid, 1, "two", 2.5, nil, [1, [2]],
      {"sym" => 1, "str" => [2], "nested" => {"deep" => "x"}},
      {"x" => 1, "y" => [true]},
      "gid://winch/Winch::TestUser/42",
      {"_aj_serialized" => "ActiveJob::Serializers::SymbolSerializer", "value" => "sym"},
      BIG, "ünï ✓", {"kw" => "x", "other" => nil}]
    assert_equal expected, reply["args"]
    assert_includes raw, BIG.to_s
    assert_equal "Winch::EchoReply", reply["class"]
    assert_equal "aj_replies", reply["queue"]
    wait_for_stats(processed: 1, failed: 0)
  end

  def test_scheduled_activejob_runs_when_due
    start_worker(aj: true)
    t0 = Time.now.to_f
    job = Winch::Echo.set(wait: 2).perform_later("aj_sched", "later")
    entry = Sidekiq::ScheduledSet.new.first
    assert_equal job.provider_job_id, entry.jid
    assert_equal "Winch::Echo", entry.display_class
    reply = wait_for("the scheduled ActiveJob reply", 15) { replies("aj_sched").first }
    assert_equal [job.provider_job_id, "later"], reply["args"]
    assert_operator reply["created_at"], :>=, t0 + 2
  end

  def test_failing_activejob_is_retried_by_sidekiq
    job = Winch::Fail.perform_later("ArgumentError", "aj boom")
    original = JSON.parse(raw_queue("default").first)
    start_worker(aj: true)
    first = wait_for("the retry entry") { Sidekiq::RetrySet.new.first }
    assert_equal job.provider_job_id, first.jid
    assert_equal WRAPPER, first.klass
    assert_equal "Winch::Fail", first["wrapped"]
    assert_equal "Winch::Fail", first.display_class
    assert_equal ["ArgumentError", "aj boom"], first.display_args
    assert_equal "ArgumentError", first["error_class"]
    assert_equal "aj boom", first["error_message"]
    assert_equal 0, first["retry_count"]
    assert_equal true, first["retry"]
    assert_equal "default", first["queue"]
    assert_equal original["args"], first.args, "the ActiveJob data is kept as enqueued"

    Sidekiq::RetrySet.new.each(&:add_to_queue)
    second = wait_for("the second failure") {
      e = Sidekiq::RetrySet.new.first
      e if e && e["retry_count"] == 1
    }
    assert_equal first.jid, second.jid
    assert_equal first["failed_at"], second["failed_at"]
    assert_kind_of Float, second["retried_at"]
    assert_equal original["args"], second.args
    assert_equal 0, Sidekiq::DeadSet.new.size
    wait_for_stats(processed: 2, failed: 2)
  end
end
