set terminal pngcairo size 800,520 enhanced font 'DejaVu Sans,10' noenhanced
set output "dci_informativeness_train-vs-batch_size.png"
set title "dci.informativeness_train vs batch_size (mean ± std over seeds)"
set xlabel "training.batch_size"
set ylabel "dci.informativeness_train"
set grid
set key below
set offsets 0, graph 0.03, graph 0.05, 0
set yrange [0:*]
set xrange [0:*]
plot 'dci_informativeness_train-vs-batch_size.0.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae learning_rate=0.001", 'dci_informativeness_train-vs-batch_size.1.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-gvae learning_rate=0.0005", 'dci_informativeness_train-vs-batch_size.2.dat' using 1:2:3 with yerrorlines lw 2 title "kind=ada-ml-vae learning_rate=0.001", 'dci_informativeness_train-vs-batch_size.3.dat' using 1:2:3 with yerrorlines lw 2 title "kind=annealed-vae learning_rate=0.001", 'dci_informativeness_train-vs-batch_size.4.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-tcvae learning_rate=0.0005", 'dci_informativeness_train-vs-batch_size.5.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-tcvae learning_rate=0.001", 'dci_informativeness_train-vs-batch_size.6.dat' using 1:2:3 with yerrorlines lw 2 title "kind=beta-vae learning_rate=0.001", 'dci_informativeness_train-vs-batch_size.7.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-1 learning_rate=0.001", 'dci_informativeness_train-vs-batch_size.8.dat' using 1:2:3 with yerrorlines lw 2 title "kind=dip-vae-2 learning_rate=0.001", 'dci_informativeness_train-vs-batch_size.9.dat' using 1:2:3 with yerrorlines lw 2 title "kind=factor-vae learning_rate=0.001"
