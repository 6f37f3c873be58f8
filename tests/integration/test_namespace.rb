# --namespace: every key winch reads and writes carries the redis-namespace prefix of a
# Sidekiq 6 app, and nothing outside it is touched.
require_relative "helper"

class TestNamespace < Integration::Test
  NS = "myapp"

  def test_namespaced_queues_heartbeat_and_stats
    w, identity = start_winch("-c", "2", namespace: NS)
    assert_includes redis.smembers("#{NS}:processes"), identity
    assert_equal [], redis.smembers("processes"), "no heartbeat outside the namespace"
    assert_equal 1, redis.exists("#{NS}:#{identity}"), "the identity hash is namespaced"
    assert_equal 0, redis.exists(identity)
    info = JSON.parse(redis.hget("#{NS}:#{identity}", "info"))
    assert_equal w.pid, info["pid"]

    # A job outside the namespace is not its business.
    _, outside = push_job("Winch::Echo", ["replies", "outside"])
    jid = push_echo("replies", "inside", namespace: NS)
    reply = JSON.parse(wait_reply(jid, namespace: NS))
    assert_equal [jid, "inside"], reply["args"]
    assert_includes redis.smembers("#{NS}:queues"), "replies", "the reply's queue is registered in the namespace"
    sleep 0.5
    assert_equal [outside], redis.lrange("queue:default", 0, -1), "queue:default outside the namespace is untouched"
    assert_equal 0, redis.llen("queue:replies")

    # Failures and the scheduled set live in the namespace too.
    fail_jid, = push_job("Winch::Fail", ["RuntimeError", "ns"], namespace: NS)
    member = wait_for("the failure in #{NS}:retry", 10) { redis.zrange("#{NS}:retry", 0, -1).first }
    assert_equal fail_jid, JSON.parse(member)["jid"]
    assert_equal 0, redis.zcard("retry")
    sched_jid = SecureRandom.hex(12)
    redis.zadd("#{NS}:schedule", Time.now.to_f - 1,
      %({"retry":true,"queue":"default","args":["replies","scheduled"],"class":"Winch::Echo","jid":"#{sched_jid}"}))
    assert_equal [sched_jid, "scheduled"], JSON.parse(wait_reply(sched_jid, namespace: NS))["args"]

    status, processed, failed = stop_and_stats(w, prefix: "#{NS}:")
    assert_clean_exit status
    assert_equal [3, 1], [processed, failed], "stats in the namespace"
    assert_nil redis.get("stat:processed"), "no stats outside the namespace"
    refute_includes redis.smembers("#{NS}:processes"), identity, "left the namespaced process set"
    assert_equal [outside], redis.lrange("queue:default", 0, -1)
    unprefixed = redis.keys("*").reject { |k| k.start_with?("#{NS}:") }
    assert_equal ["queue:default"], unprefixed.sort, "the only key outside the namespace is the test's own"
  end
end
