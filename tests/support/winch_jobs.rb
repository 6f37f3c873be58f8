# Ruby stand-ins for winch's built-in handlers, as plain Sidekiq workers.
# They let the interop suite run with Ruby Sidekiq as the worker under test, which proves
# the suite tests Sidekiq's own semantics. Definitions follow issue 2 ("Built-in handlers").
# Never load this file together with winch_active_jobs.rb: the class names are the same.

require "sidekiq"
require "digest"
require_relative "error_class"

module Winch
  # Shared helpers (kept tiny; winch_active_jobs.rb has its own copy of the reply).
  module StandIn
    module_function

    # Enqueue the reply exactly as the Ruby client would: fresh jid, created_at,
    # enqueued_at and retry are added by Sidekiq::Client.
    def reply(queue, jid, rest)
      Sidekiq::Client.push("class" => "Winch::EchoReply", "queue" => queue, "args" => [jid, *rest])
    end

    # The exception class named +name+ (tests/support/error_class.rb).
    def error_class(name)
      WinchErrorClass.lookup(name)
    end
  end

  # Does nothing.
  class Noop
    include Sidekiq::Worker

    def perform(*)
    end
  end

  # args [reply_queue, *rest]: reply {"class":"Winch::EchoReply","queue":reply_queue,
  # "args":[jid, *rest]}.
  class Echo
    include Sidekiq::Worker

    def perform(reply_queue, *rest)
      StandIn.reply(reply_queue, jid, rest)
    end
  end

  # args [error_class, message]: fails with that class and message.
  class Fail
    include Sidekiq::Worker

    def perform(error_class, message)
      raise StandIn.error_class(error_class), message
    end
  end

  # args [milliseconds, reply_queue = nil, *rest]: sleeps, then replies as Echo does.
  class Sleep
    include Sidekiq::Worker

    def perform(ms, reply_queue = nil, *rest)
      sleep(ms / 1000.0)
      StandIn.reply(reply_queue, jid, rest) unless reply_queue.nil?
    end
  end

  # args [data, rounds]: CPU-bound; each round hashes the previous lowercase hex digest.
  class Digest
    include Sidekiq::Worker

    def perform(data, rounds)
      d = data
      rounds.times { d = ::Digest::SHA256.hexdigest(d) }
      d
    end
  end
end
