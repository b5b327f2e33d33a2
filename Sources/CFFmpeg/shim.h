#ifndef REELFORGE_CFFMPEG_SHIM_H
#define REELFORGE_CFFMPEG_SHIM_H
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>
#include <libavutil/avutil.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/timestamp.h>

/* Macros Swift cannot import. */
static inline int rf_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int rf_averror_eof(void) { return AVERROR_EOF; }
static inline int64_t rf_av_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational rf_av_time_base_q(void) { return AV_TIME_BASE_Q; }
#endif
