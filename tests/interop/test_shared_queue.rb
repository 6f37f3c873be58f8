# A Ruby sidekiq process and the worker under test share one Redis and one queue: every job
# is done exactly once. Meaningful only with WORKER=winch.
require "minitest/autorun"
require_relative "../support/harness"

class TestSharedQueue < Harness::TestCase
  COUNT = 500

  def test_ruby_and_winch_share_a_queue
    skip "needs WORKER=winch (both workers would be Ruby sidekiq)" unless Harness.winch?

    ruby = start_worker(kind: :sidekiq, concurrency: 3, queues: ["shared"])
    winch = start_worker(kind: :winch, concurrency: 5, queues: ["shared"])
    assert_equal 2, Sidekiq::ProcessSet.new.count
    refute_equal ruby.identity, winch.identity

    jids = Sidekiq::Client.push_bulk("class" => "Winch::Echo", "queue" => "shared",
      "args" => COUNT.times.map { |i| ["shared_replies", i] })
    assert_equal COUNT, jids.size
    wait_for("#{COUNT} replies", 60, interval: 0.1) { redis.llen("queue:shared_replies") >= COUNT }
    sleep 1
    got = replies("shared_replies")
    assert_equal COUNT, got.size, "no job ran twice"
    assert_equal jids.sort, got.map { |r| r["args"][0] }.sort, "every job replied once"
    assert_equal (0...COUNT).to_a, got.map { |r| r["args"][1] }.sort
    assert_equal 0, redis.llen("queue:shared")

    # Both took part: Ruby's job log names each job it finished.
    ours = jids.to_h { |j| [j, true] }
    ruby_done = ruby.log.scan(/jid=(\h{24}) .*INFO: done/).flatten.count { |j| ours[j] }
    assert_operator ruby_done, :>, 0, "the Ruby process ran some jobs"
    assert_operator ruby_done, :<, COUNT, "winch ran some jobs"
    wait_for_stats(processed: COUNT, failed: 0, timeout: 15)
  end
end
