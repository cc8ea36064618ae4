#pragma once

#include <QColor>
#include <QLabel>
#include <QLayout>
#include <QPalette>

namespace Onboarder::FieldError {

// The red sentence under a form field that says what is wrong with it; hidden while there is none.
inline QLabel *create(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    QPalette palette = label->palette();
    palette.setColor(QPalette::WindowText, QColor(0xb3, 0x26, 0x1e));
    label->setPalette(palette);
    label->hide();
    return label;
}

inline void show(QLabel *label, const QString &text)
{
    label->setText(text);
    label->setVisible(!text.isEmpty());
}

// Wrapped error lines need more height at the dialog's width, and a dialog does not grow by itself for them: it
// grows here (never shrinks under the user).
inline void fitHeight(QWidget *dialog)
{
    QLayout *layout = dialog->layout();
    if (!layout)
        return;
    layout->activate();
    const int needed
        = layout->hasHeightForWidth() ? layout->totalHeightForWidth(dialog->width()) : dialog->sizeHint().height();
    if (needed > dialog->height())
        dialog->resize(dialog->width(), needed);
}

} // namespace Onboarder::FieldError
