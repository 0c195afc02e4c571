// Builds the colormap tables. Viridis and magma: the 6th-degree polynomial fits (per channel, in t)
// published with the matplotlib colormaps' shader approximations (max error about 0.01 against the
// 256-entry tables). Cool-warm: Moreland's "Diverging Color Maps for Scientific Visualization" (2009):
// interpolate between RGB (59, 76, 192) and (180, 4, 38) in Msh space through an unsaturated white.
#include "views/plot/colormap.h"

#include <algorithm>
#include <cmath>

namespace headscope::plot {

namespace {

struct Vec3 {
  double x, y, z;
};

// c0 + t (c1 + t (c2 + ...)) per channel.
Color evaluate_polynomial(const std::array<Vec3, 7>& c, double t) {
  Vec3 v = c[6];
  for (int i = 5; i >= 0; --i) v = {c[i].x + t * v.x, c[i].y + t * v.y, c[i].z + t * v.z};
  auto clamp01 = [](double x) { return static_cast<float>(std::clamp(x, 0.0, 1.0)); };
  return {clamp01(v.x), clamp01(v.y), clamp01(v.z), 1};
}

const std::array<Vec3, 7> kViridis = {{{0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
                                       {0.1050930431085774, 1.404613529898575, 1.384590162594685},
                                       {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
                                       {-4.634230498983486, -5.799100973351585, -19.33244095627987},
                                       {6.228269936347081, 14.17993336680509, 56.69055260068105},
                                       {4.776384997670288, -13.74514537774601, -65.35303263337234},
                                       {-5.435455855934631, 4.645852612178535, 26.3124352495832}}};

const std::array<Vec3, 7> kMagma = {{{-0.002136485053939582, -0.000749655052795221, -0.005386127855323933},
                                     {0.2516605407371642, 0.6775232436837668, 2.494026599312351},
                                     {8.353717279216625, -3.577719514958484, 0.3144679030132573},
                                     {-27.66873308576866, 14.26473078096533, -13.64921318813922},
                                     {52.17613981234068, -27.94360607168351, 12.94416944238394},
                                     {-50.76852536473588, 29.04658282127291, 4.23415299384598},
                                     {18.65570506591883, -11.48977351997711, -5.601961508734096}}};

// --- Moreland's Msh space (sRGB → linear → XYZ (D65) → CIELAB → Msh and back) ---

const Vec3 kWhiteD65 = {0.95047, 1.0, 1.08883};

double srgb_to_linear(double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); }
double linear_to_srgb(double c) { return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1 / 2.4) - 0.055; }
double lab_f(double t) { return t > 0.008856 ? std::cbrt(t) : 7.787 * t + 16.0 / 116.0; }
double lab_f_inverse(double t) { return t > 0.20689 ? t * t * t : (t - 16.0 / 116.0) / 7.787; }

Vec3 rgb_to_msh(Vec3 rgb) {
  const double r = srgb_to_linear(rgb.x), g = srgb_to_linear(rgb.y), b = srgb_to_linear(rgb.z);
  const double x = 0.4124 * r + 0.3576 * g + 0.1805 * b;
  const double y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const double z = 0.0193 * r + 0.1192 * g + 0.9505 * b;
  const double fx = lab_f(x / kWhiteD65.x), fy = lab_f(y / kWhiteD65.y), fz = lab_f(z / kWhiteD65.z);
  const double l = 116 * fy - 16, a = 500 * (fx - fy), bb = 200 * (fy - fz);
  const double m = std::sqrt(l * l + a * a + bb * bb);
  const double s = m > 0 ? std::acos(std::clamp(l / m, -1.0, 1.0)) : 0;
  const double h = std::atan2(bb, a);
  return {m, s, h};
}

Vec3 msh_to_rgb(Vec3 msh) {
  const double l = msh.x * std::cos(msh.y);
  const double a = msh.x * std::sin(msh.y) * std::cos(msh.z);
  const double bb = msh.x * std::sin(msh.y) * std::sin(msh.z);
  const double fy = (l + 16) / 116, fx = fy + a / 500, fz = fy - bb / 200;
  const double x = kWhiteD65.x * lab_f_inverse(fx), y = kWhiteD65.y * lab_f_inverse(fy),
               z = kWhiteD65.z * lab_f_inverse(fz);
  const double r = 3.2406 * x - 1.5372 * y - 0.4986 * z;
  const double g = -0.9689 * x + 1.8758 * y + 0.0415 * z;
  const double b = 0.0557 * x - 0.2040 * y + 1.0570 * z;
  auto out = [](double c) { return std::clamp(linear_to_srgb(std::clamp(c, 0.0, 1.0)), 0.0, 1.0); };
  return {out(r), out(g), out(b)};
}

// Hue of the unsaturated end so that the path does not pass through a muddy colour (Moreland, eq. 5).
double adjust_hue(Vec3 saturated, double unsaturated_m) {
  if (saturated.x >= unsaturated_m) return saturated.z;
  const double spin = saturated.y * std::sqrt(unsaturated_m * unsaturated_m - saturated.x * saturated.x) /
                      (saturated.x * std::sin(saturated.y));
  return saturated.z > -M_PI / 3 ? saturated.z + spin : saturated.z - spin;
}

Color cool_warm(double t) {
  const Vec3 cool = rgb_to_msh({59 / 255.0, 76 / 255.0, 192 / 255.0});
  const Vec3 warm = rgb_to_msh({180 / 255.0, 4 / 255.0, 38 / 255.0});
  Vec3 a = cool, b = warm;
  double u = t;
  const double mid_m = std::max({a.x, b.x, 88.0});
  if (t < 0.5) {
    b = {mid_m, 0, 0};
    u = 2 * t;
  } else {
    a = {mid_m, 0, 0};
    u = 2 * t - 1;
  }
  if (a.y > 0.05 && b.y < 0.05) b.z = adjust_hue(a, b.x);
  if (b.y > 0.05 && a.y < 0.05) a.z = adjust_hue(b, a.x);
  const Vec3 msh = {(1 - u) * a.x + u * b.x, (1 - u) * a.y + u * b.y, (1 - u) * a.z + u * b.z};
  const Vec3 rgb = msh_to_rgb(msh);
  return {static_cast<float>(rgb.x), static_cast<float>(rgb.y), static_cast<float>(rgb.z), 1};
}

}  // namespace

std::uint32_t pack_rgba(Color c) {
  auto byte = [](float v) { return static_cast<std::uint32_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255)); };
  return byte(c.r) | (byte(c.g) << 8) | (byte(c.b) << 16) | (byte(c.a) << 24);
}

Colormap::Colormap(ColormapId id, std::string name) : id_(id), name_(std::move(name)) {
  for (int i = 0; i < kSize; ++i) {
    const double t = static_cast<double>(i) / (kSize - 1);
    switch (id) {
      case ColormapId::viridis: table_[i] = evaluate_polynomial(kViridis, t); break;
      case ColormapId::magma: table_[i] = evaluate_polynomial(kMagma, t); break;
      case ColormapId::cool_warm: table_[i] = cool_warm(t); break;
    }
    packed_[i] = pack_rgba(table_[i]);
  }
}

const Colormap& Colormap::get(ColormapId id) {
  static const Colormap viridis(ColormapId::viridis, "viridis");
  static const Colormap magma(ColormapId::magma, "magma");
  static const Colormap cool_warm_map(ColormapId::cool_warm, "cool-warm");
  switch (id) {
    case ColormapId::magma: return magma;
    case ColormapId::cool_warm: return cool_warm_map;
    case ColormapId::viridis: break;
  }
  return viridis;
}

const Colormap* Colormap::find(const std::string& name) {
  for (ColormapId id : {ColormapId::viridis, ColormapId::magma, ColormapId::cool_warm})
    if (get(id).name() == name) return &get(id);
  return nullptr;
}

std::vector<std::string> Colormap::names() { return {"viridis", "magma", "cool-warm"}; }

Color Colormap::color(double t) const {
  if (std::isnan(t)) return {0.55f, 0.55f, 0.55f, 1};
  const int index = static_cast<int>(std::lround(std::clamp(t, 0.0, 1.0) * (kSize - 1)));
  return table_[index];
}

std::uint32_t Colormap::rgba(double t) const {
  if (std::isnan(t)) return kMissingRgba;
  return packed_[static_cast<int>(std::lround(std::clamp(t, 0.0, 1.0) * (kSize - 1)))];
}

std::uint32_t Colormap::rgba(double value, double vmin, double vmax) const {
  if (std::isnan(value)) return kMissingRgba;
  const double span = vmax - vmin;
  return rgba(span > 0 ? (value - vmin) / span : 0.5);
}

}  // namespace headscope::plot
