# What both chaos tests share: the Winch::Echo jobs they push and how they read the replies.
require "json"

module ChaosJobs
  JOBS = Integer(ENV.fetch("CHAOS_JOBS", "60000"))
  KILL_SECONDS = Float(ENV.fetch("CHAOS_SECONDS", "12"))
  CONCURRENCY = 10
  WORKERS = 2

  # Winch::Echo jobs answering to queue:replies with their own jid, as the Ruby client
  # writes them, 1,000 to a pipeline.
  def push_all(r, jids)
    now = Time.now.to_f
    jids.each_slice(1000) do |slice|
      payloads = slice.map { |jid|
        JSON.generate({"retry" => true, "queue" => "default", "args" => ["replies", jid],
                       "class" => "Winch::Echo", "jid" => jid, "created_at" => now,
                       "enqueued_at" => now})
      }
      r.pipelined do |p|
        p.sadd("queues", "default")
        p.lpush("queue:default", payloads)
      end
    end
  end

  # Push jids evenly over seconds from a thread of its own, a slice at a time while holding
  # redis_up (the test holds it while Redis restarts, so no slice is half sent). Returns the
  # thread; the last slice goes out at the end of the window.
  def push_during(server, jids, seconds, redis_up)
    slices = jids.each_slice(1000).to_a
    Thread.new do
      t0 = Harness.monotonic
      slices.each_with_index do |slice, i|
        pause = t0 + seconds * i / slices.size - Harness.monotonic
        sleep pause if pause > 0
        redis_up.synchronize { push_all(server.client, slice) }
      end
    end
  end

  # The original jid of each reply: Winch::Echo answers [jid of the job, *rest], rest = [jid].
  def answered(r)
    r.lrange("queue:replies", 0, -1).map { |raw| JSON.parse(raw)["args"][1] }
  end
end
