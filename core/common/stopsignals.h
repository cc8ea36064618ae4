#pragma once

#include <QObject>

#include <memory>

class QSocketNotifier;

namespace Onboarder {

// SIGINT and SIGTERM as a Qt signal on the owner's thread (a self-pipe: the handler only writes a
// byte), so that a long-running process (the sandbox, `onboarder-cli relay run`) shuts down in order.
// One at a time per process: the handlers are installed by the constructor and reset to the default
// by the destructor.
//
// Threads: stopRequested() is emitted on the thread that created it (its socket notifier is a member, not a child:
// it cannot be moved). The POSIX handler, which may run on any thread of the process, only writes to the pipe.
class StopSignals final : public QObject
{
    Q_OBJECT

public:
    explicit StopSignals(QObject *parent = nullptr);
    ~StopSignals() override;

    bool isActive() const { return m_notifier != nullptr; }

Q_SIGNALS:
    void stopRequested();

private:
    std::unique_ptr<QSocketNotifier> m_notifier;
};

} // namespace Onboarder
