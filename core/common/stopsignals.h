#pragma once

#include <QObject>

#include <memory>

class QSocketNotifier;

namespace Onboarder {

// SIGINT and SIGTERM as a Qt signal on the owner's thread (a self-pipe: the handler only writes a
// byte), so that a long-running process (the sandbox, `onboarder-cli relay run`) shuts down in order.
// One at a time per process: the handlers are installed by the constructor and reset to the default
// by the destructor.
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
