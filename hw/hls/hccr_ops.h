// hccr-fpga custom hls4ml layers (io_stream): the IR ops hls4ml has no exact layer for.
// Every value is an integer `q - offset` (see hw/hls/lower.py); the arithmetic is
// quant/golden.py's, in 64-bit integers.
#ifndef HCCR_OPS_H_
#define HCCR_OPS_H_

#include "hls_stream.h"
#include "nnet_common.h"

namespace nnet {

// y = table[v + index_offset] per element (the IR sigmoid LUT, already in the output's form).
struct hccr_lut_config {
    static const unsigned n_beats = 1;
    static const int index_offset = 0;
    static const unsigned table_size = 256;
};

template <class data_T, class res_T, class table_T, typename CONFIG_T>
void hccr_lut(hls::stream<data_T> &data, hls::stream<res_T> &res,
              const table_T table[CONFIG_T::table_size]) {
Beats:
    for (unsigned i = 0; i < CONFIG_T::n_beats; i++) {
        #pragma HLS PIPELINE
        data_T in = data.read();
        res_T out;
        PRAGMA_DATA_PACK(out)
    Elements:
        for (unsigned c = 0; c < res_T::size; c++) {
            #pragma HLS UNROLL
            out[c] = table[in[c].to_int() + CONFIG_T::index_offset];
        }
        res.write(out);
    }
}

// y = clip(zo + ((x - zx) * (g - zg) * M + r) >> s, lo, hi), the gate g broadcast from one
// beat of n_chan values (per_channel, [1,1,C]) or from one value per pixel ([H,W,1]).
// With per_channel the gate is read before any x: the x stream must hold the whole tensor.
struct hccr_mul_config {
    static const unsigned n_pixels = 1;
    static const unsigned n_chan = 1;
    static const bool per_channel = true;
    static const int zx = 0;
    static const int zg = 0;
    static const int zo = 0;
    static const long long multiplier = 1;
    static const unsigned shift = 0;
    static const int lo = 0;
    static const int hi = 0;
};

template <typename CONFIG_T> long long hccr_rq(long long acc) {
    const long long r = CONFIG_T::shift > 0 ? (1LL << (CONFIG_T::shift - 1)) : 0;
    long long y = CONFIG_T::zo + ((acc * CONFIG_T::multiplier + r) >> CONFIG_T::shift);
    return y < CONFIG_T::lo ? CONFIG_T::lo : y > CONFIG_T::hi ? CONFIG_T::hi : y;
}

template <class data_T, class gate_T, class res_T, typename CONFIG_T>
void hccr_mul(hls::stream<data_T> &x, hls::stream<gate_T> &gate, hls::stream<res_T> &res) {
    long long g[CONFIG_T::n_chan];
    #pragma HLS ARRAY_PARTITION variable=g complete
    if (CONFIG_T::per_channel) {
        gate_T gv = gate.read();
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
            #pragma HLS UNROLL
            g[c] = gv[c].to_int() - CONFIG_T::zg;
        }
    }
Pixels:
    for (unsigned i = 0; i < CONFIG_T::n_pixels; i++) {
        #pragma HLS PIPELINE
        data_T xv = x.read();
        if (!CONFIG_T::per_channel) {
            gate_T gv = gate.read();
            for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
                #pragma HLS UNROLL
                g[c] = gv[0].to_int() - CONFIG_T::zg;
            }
        }
        res_T out;
        PRAGMA_DATA_PACK(out)
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
            #pragma HLS UNROLL
            out[c] = hccr_rq<CONFIG_T>((long long)(xv[c].to_int() - CONFIG_T::zx) * g[c]);
        }
        res.write(out);
    }
}

// Max pool with any kernel, stride and padding (pads never win), from a ring of
// pool_height input rows; an output row is written once its last input row arrived.
struct hccr_maxpool_config {
    static const unsigned in_height = 1;
    static const unsigned in_width = 1;
    static const unsigned n_chan = 1;
    static const unsigned out_height = 1;
    static const unsigned out_width = 1;
    static const unsigned pool_height = 1;
    static const unsigned pool_width = 1;
    static const unsigned stride_height = 1;
    static const unsigned stride_width = 1;
    static const unsigned pad_top = 0;
    static const unsigned pad_left = 0;
};

template <class data_T, class res_T, typename CONFIG_T>
void hccr_maxpool(hls::stream<data_T> &data, hls::stream<res_T> &res) {
    typename data_T::value_type rows[CONFIG_T::pool_height][CONFIG_T::in_width][CONFIG_T::n_chan];
    const int H = CONFIG_T::in_height, W = CONFIG_T::in_width;
    const int KH = CONFIG_T::pool_height, KW = CONFIG_T::pool_width;
Rows:
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            #pragma HLS PIPELINE
            data_T in = data.read();
            for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
                #pragma HLS UNROLL
                rows[y % KH][x][c] = in[c];
            }
        }
        for (int oy = 0; oy < (int)CONFIG_T::out_height; oy++) {
            const int top = oy * (int)CONFIG_T::stride_height - (int)CONFIG_T::pad_top;
            const int last = top + KH - 1 < H - 1 ? top + KH - 1 : H - 1;
            if (last != y) continue;
            for (int ox = 0; ox < (int)CONFIG_T::out_width; ox++) {
                #pragma HLS PIPELINE
                const int left = ox * (int)CONFIG_T::stride_width - (int)CONFIG_T::pad_left;
                res_T out;
                PRAGMA_DATA_PACK(out)
                for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
                    #pragma HLS UNROLL
                    bool seen = false;
                    typename data_T::value_type m = 0;
                    for (int i = 0; i < KH; i++) {
                        for (int j = 0; j < KW; j++) {
                            const int r = top + i, col = left + j;
                            if (r < 0 || r >= H || col < 0 || col >= W) continue;
                            typename data_T::value_type e = rows[r % KH][col][c];
                            if (!seen || e > m) m = e;
                            seen = true;
                        }
                    }
                    out[c] = m;
                }
                res.write(out);
            }
        }
    }
}

// Max over the channels of each pixel: [H,W,C] -> [H,W,1] (the IR's reduce_channels max).
struct hccr_channel_max_config {
    static const unsigned n_pixels = 1;
};

template <class data_T, class res_T, typename CONFIG_T>
void hccr_channel_max(hls::stream<data_T> &data, hls::stream<res_T> &res) {
Pixels:
    for (unsigned i = 0; i < CONFIG_T::n_pixels; i++) {
        #pragma HLS PIPELINE
        data_T in = data.read();
        typename data_T::value_type m = in[0];
        for (unsigned c = 1; c < data_T::size; c++) {
            #pragma HLS UNROLL
            if (in[c] > m) m = in[c];
        }
        res_T out;
        out[0] = m;
        res.write(out);
    }
}

// Re-packs a stream: the same row-major elements, res_T::size per beat instead of data_T::size.
struct hccr_repack_config {
    static const unsigned n_elem = 1;
};

template <class data_T, class res_T, typename CONFIG_T>
void hccr_repack(hls::stream<data_T> &data, hls::stream<res_T> &res) {
    typename data_T::value_type buf[CONFIG_T::n_elem];
    for (unsigned i = 0; i < CONFIG_T::n_elem / data_T::size; i++) {
        data_T in = data.read();
        for (unsigned c = 0; c < data_T::size; c++) buf[i * data_T::size + c] = in[c];
    }
    for (unsigned i = 0; i < CONFIG_T::n_elem / res_T::size; i++) {
        res_T out;
        PRAGMA_DATA_PACK(out)
        for (unsigned c = 0; c < res_T::size; c++) out[c] = buf[i * res_T::size + c];
        res.write(out);
    }
}

} // namespace nnet

#endif
